import type { AttemptRecord } from './attempt-record.js';
import { DURATION_BUCKETS, durationBucket } from './duration-histogram.js';

export interface StatsRow {
  minute: string;
  job: string;
  queue: string;
  company_id: string;
  succeeded: number;
  failed: number;
  retried: number;
  dead: number;
  cancelled: number;
  duration_ms_sum: number;
  duration_hist: number[];
}

/** The per-minute rollup of a batch: one row per minute, job, queue and tenant. */
export function rollup(records: readonly AttemptRecord[]): StatsRow[] {
  // A batch is mostly one job and queue in one minute, over many tenants: the rows of that
  // (minute, job, queue) are found by tenant alone, with no key string built per record.
  const groups = new Map<string, Map<string, StatsRow>>();
  const rows: StatsRow[] = [];
  let group: Map<string, StatsRow> | undefined;
  let minute = '';
  let lastMinute = -1;
  let lastJob = '';
  let lastQueue = '';
  for (const r of records) {
    const minuteMs = Math.floor(r.finishedAt.getTime() / 60_000) * 60_000;
    if (!group || minuteMs !== lastMinute || r.job !== lastJob || r.queue !== lastQueue) {
      minute = new Date(minuteMs).toISOString();
      const key = `${minute}\u001f${r.job}\u001f${r.queue}`;
      group = groups.get(key);
      if (!group) groups.set(key, (group = new Map()));
      lastMinute = minuteMs;
      lastJob = r.job;
      lastQueue = r.queue;
    }
    const company = r.companyId ?? '';
    let row = group.get(company);
    if (!row) {
      row = { minute, job: r.job, queue: r.queue, company_id: company, succeeded: 0, failed: 0, retried: 0, dead: 0, cancelled: 0, duration_ms_sum: 0, duration_hist: new Array<number>(DURATION_BUCKETS).fill(0) };
      group.set(company, row);
      rows.push(row);
    }
    switch (r.outcome) {
      case 'succeeded': row.succeeded++; break;
      case 'failed': row.failed++; break;
      case 'dead': row.dead++; break;
      case 'cancelled': row.cancelled++; break;
      default: row.retried++;
    }
    if (r.outcome !== 'lost') {
      row.duration_ms_sum += Math.round(r.durationMs);
      row.duration_hist[durationBucket(r.durationMs)]++;
    }
  }
  return rows;
}

/** An array literal's element: quoted, with backslash and double quote escaped. */
function quoted(s: string): string {
  return '"' + (/["\\]/.test(s) ? s.replace(/["\\]/g, '\\$&') : s) + '"';
}

/**
 * The rollup rows as statsInsert's parameters: one Postgres array literal per
 * column, the histograms as text elements ('{0,1,…}') cast to int[] there.
 */
export function statsParams(rows: readonly StatsRow[]): string[] {
  const text = (pick: (r: StatsRow) => string) => '{' + rows.map((r) => quoted(pick(r))).join(',') + '}';
  const ints = (pick: (r: StatsRow) => number) => '{' + rows.map(pick).join(',') + '}';
  return [
    text((r) => r.minute), text((r) => r.job), text((r) => r.queue), text((r) => r.company_id),
    ints((r) => r.succeeded), ints((r) => r.failed), ints((r) => r.retried), ints((r) => r.dead), ints((r) => r.cancelled),
    ints((r) => r.duration_ms_sum), text((r) => '{' + r.duration_hist.join(',') + '}'),
  ];
}
