import { isEncrypted, mapEncrypted, type FieldCipher } from './field-cipher.js';

type Runner = { query(sql: string, params?: unknown[]): Promise<unknown> };

export interface RotationCounts {
  table: string;
  scanned: number;
  rewritten: number;
  values: number;
}

/** Every stored place a sensitive value can sit: table, key column(s), the column holding JSON, and whether it is text. */
const TARGETS = [
  { table: 'job_runs', key: 'id', column: 'payload', text: false },
  // The payload of every attempt that did not succeed is kept with the run history, to read and retry a failed run after its message is gone.
  { table: 'job_attempts', key: `run_id || '\u001f' || lpad(attempt::text, 10, '0') || '\u001f' || outcome`, column: 'payload', text: false },
  { table: 'outbox', key: 'run_id', column: 'body', text: false },
  { table: 'dead_letters', key: 'id', column: 'payload', text: true },
  { table: 'job_steps', key: `run_id || '\u001f' || name`, column: 'result', text: false },
  { table: 'notifier_webhooks', key: 'id::text', column: 'secret', text: true },
] as const;

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  if (result && typeof result === 'object' && 'rows' in result) return (result as { rows: T[] }).rows;
  return (result as T[]) ?? [];
}

/**
 * Re-encrypts under the cipher's active key every stored value encrypted
 * under another key: planned runs' and failed attempts' payloads, outbox bodies, dead letters (their
 * raw message text) and step results. Keyset-paged, one UPDATE per changed
 * row, safe to run while workers run (a row is rewritten only if unchanged
 * since it was read) and to re-run. Messages already in JetStream cannot be
 * rewritten: keep an old key configured until the stream no longer holds
 * messages encrypted under it (docs/durability.md).
 */
export async function rotateEncryptedRecords(db: Runner, cipher: FieldCipher, options: { batch?: number } = {}): Promise<RotationCounts[]> {
  if (!cipher.activeKeyId) throw new Error('rotation needs ENCRYPTION_ACTIVE_KEY');
  const batch = options.batch ?? 500;
  const out: RotationCounts[] = [];
  for (const t of TARGETS) {
    const counts: RotationCounts = { table: t.table, scanned: 0, rewritten: 0, values: 0 };
    let after = '';
    for (;;) {
      const rows = rowsOf<{ k: string; v: string }>(await db.query(
        `SELECT ${t.key} AS k, ${t.column}::text AS v FROM ${t.table}
          WHERE ${t.column}::text LIKE '%"$enc"%' AND ${t.key} > $1 ORDER BY ${t.key} LIMIT $2`,
        [after, batch],
      ));
      if (rows.length === 0) break;
      for (const row of rows) {
        counts.scanned++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(row.v);
        } catch {
          continue; // not JSON (a malformed dead letter): nothing we wrote
        }
        // A dead letter's payload is the raw CloudEvent text; a step result is {"v": ...}; both hold envelopes as JSON.
        let changed = 0;
        const next = mapEncrypted(parsed, (e) => {
          if (!isEncrypted(e) || e.kid === cipher.activeKeyId) return e;
          changed++;
          return cipher.encrypt(cipher.decrypt(e));
        });
        if (changed === 0) continue;
        const value = JSON.stringify(next);
        const updated = rowsOf<{ k: string }>(await db.query(
          `UPDATE ${t.table} SET ${t.column} = $2${t.text ? '' : '::jsonb'} WHERE ${t.key} = $1 AND ${t.column}::text = $3 RETURNING ${t.key} AS k`,
          [row.k, value, row.v],
        ));
        if (updated.length) {
          counts.rewritten++;
          counts.values += changed;
        }
      }
      after = rows[rows.length - 1].k;
      if (rows.length < batch) break;
    }
    out.push(counts);
  }
  return out;
}
