import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Folds the scenarios' rows into test/results/faults.json and prints the table. */
export default async function globalTeardown(config) {
  const dir = join(config.rootDir, 'test', 'results');
  const rowsFile = join(dir, 'faults-rows.json');
  const rows = existsSync(rowsFile)
    ? readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];
  if (rows.length === 0) return;
  const sum = (k) => rows.reduce((n, r) => n + (r[k] ?? 0), 0);
  const summary = {
    generated_at: new Date().toISOString(),
    duration_ms: Date.now() - (globalThis.__FAULTS_STARTED__ ?? Date.now()),
    faults_injected: sum('faults'),
    messages: sum('messages'),
    lost: sum('lost'),
    duplicated: sum('duplicated'),
    scenarios_passed: rows.filter((r) => r.passed).length,
    scenarios_failed: rows.filter((r) => !r.passed).length,
    scenarios: rows.map((r) => ({
      scenario: r.scenario, faults_injected: r.faults, messages: r.messages, lost: r.lost, duplicated: r.duplicated,
      passed: r.passed, duration_ms: r.durationMs, notes: r.notes,
    })),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'faults.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const cols = ['scenario', 'faults_injected', 'messages', 'lost', 'duplicated', 'passed', 'duration_ms'];
  const table = [cols, ...summary.scenarios.map((r) => cols.map((c) => String(r[c]))),
    ['TOTAL', String(summary.faults_injected), String(summary.messages), String(summary.lost), String(summary.duplicated), `${summary.scenarios_passed}/${rows.length}`, String(summary.duration_ms)]];
  const widths = cols.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (row) => row.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  process.stdout.write(`\nFault suite (test/results/faults.json)\n${line(table[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.slice(1).map(line).join('\n')}\n\n`);
}
