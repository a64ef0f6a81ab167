import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where each scenario appends its row (JSON lines); global-teardown.mjs folds them into test/results/faults.json. */
export const ROWS_FILE = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'results', 'faults-rows.json');

export interface ScenarioRow {
  /** Short id, e.g. "1 sigkill-after-effect". */
  scenario: string;
  /** Faults injected (kills, stops, server restarts, terminated backends, poison messages, hostile requests…). */
  faults: number;
  /** Messages (jobs, occurrences, events, requests) whose outcome was counted. */
  messages: number;
  /** Of those, how many never reached their effect / outcome. */
  lost: number;
  /** Of those, how many had their effect applied more than once (or were fired or published twice). */
  duplicated: number;
  /** Did the scenario's assertions pass. */
  passed: boolean;
  durationMs: number;
  notes?: string;
}

/** Appends one scenario's figures. Call it before asserting, so a failing scenario is still counted. */
export function record(row: ScenarioRow): void {
  mkdirSync(dirname(ROWS_FILE), { recursive: true });
  appendFileSync(ROWS_FILE, `${JSON.stringify({ ...row, at: new Date().toISOString() })}\n`);
}

/**
 * Runs a scenario body that returns its counts, records them (passed = the
 * body and its checks did not throw) and rethrows a failure.
 */
export async function scenario(
  name: string,
  body: (counts: Omit<ScenarioRow, 'scenario' | 'passed' | 'durationMs'>) => Promise<void>,
): Promise<void> {
  const started = Date.now();
  const counts = { faults: 0, messages: 0, lost: 0, duplicated: 0, notes: undefined as string | undefined };
  try {
    await body(counts);
    record({ scenario: name, ...counts, passed: true, durationMs: Date.now() - started });
  } catch (e) {
    record({ scenario: name, ...counts, passed: false, durationMs: Date.now() - started, notes: `${counts.notes ? `${counts.notes}; ` : ''}FAILED: ${String((e as Error).message ?? e).split('\n')[0].slice(0, 300)}` });
    throw e;
  }
}
