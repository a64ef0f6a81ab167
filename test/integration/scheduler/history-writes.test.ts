import { DataSource } from 'typeorm';
import { createRootLogger, HistoryRepository, HistoryWriter, MetronomeMetrics, type AttemptRecord } from '../../../libs/common/src/index.js';
import { JobStatsRollRepository } from '../../../apps/scheduler/src/stats/job-stats-roll.repository.js';
import { TestDatabase } from '../../support/database.js';

/**
 * The history writer stores every batch by COPY, its rows written as COPY text
 * straight into bytes (CopyText): a batch of four rows and one of hundreds
 * must store the same rows, settle the same planned runs and add up the same
 * per-minute counts, whatever the text holds (tabs, newlines, backslashes,
 * quotes, unicode) and whichever fields are empty.
 */
describe('run history batches by COPY, small and large', () => {
  const database = new TestDatabase();
  let dataSource: DataSource;
  let history: HistoryRepository;
  let roller: JobStatsRollRepository;

  beforeAll(async () => {
    await database.create();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    history = new HistoryRepository(dataSource);
    roller = new JobStatsRollRepository(dataSource);
    await history.ensurePartitions();
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await database.drop();
  });

  /** A batch as the history writer sends it: with an id taken for it first. */
  const write = async (records: AttemptRecord[]) => history.write(records, await history.batchId());
  const at = new Date('2026-12-04T10:15:30.123Z');
  const record = (runId: string, overrides: Partial<AttemptRecord> = {}): AttemptRecord => ({
    runId, attempt: 1, job: 'svc.work', queue: 'normal', companyId: 'acme', outcome: 'succeeded',
    scheduledFor: null, enqueuedAt: at, startedAt: at, finishedAt: new Date(at.getTime() + 25), durationMs: 25.4,
    error: null, errorStack: null, result: { status: 'success', recordsProcessed: 3, data: { note: 'tab\there\nline "quoted" \\ back ✓' } },
    payload: null, scheduleId: null, parentRunId: null, worker: 'w-1', streamSeq: 7, planned: false, maxAttempts: 3,
    ...overrides,
  });
  const hostile = 'boom:\tcolumn\nnext line \\N not null \\ "quotes" \'single\' ✓ ünïcode';
  const variety = (prefix: string): AttemptRecord[] => [
    record(`${prefix}-ok`),
    record(`${prefix}-retry`, { outcome: 'retrying', error: hostile, result: null, payload: { to: 'x@example.com', list: [1, null, 'a\tb'] }, companyId: null }),
    record(`${prefix}-dead`, { outcome: 'dead', attempt: 3, error: 'gave up', errorStack: '    at deliver (apps/notifier/src/email.ts:10:5)\n    at "quoted" \\ tab\there', result: null, payload: 'a bare string payload', scheduledFor: at, scheduleId: 'sched-1', parentRunId: 'parent-1' }),
    record(`${prefix}-lost`, { outcome: 'lost', error: 'worker died', result: null, durationMs: 0, streamSeq: null }),
  ];
  const stored = async (prefix: string) =>
    (await database.query<Record<string, unknown>>(
      `SELECT regexp_replace(run_id, '^[^-]+-', '') AS run, attempt, job, queue, company_id, outcome, final, failed, scheduled_for, enqueued_at,
              started_at, finished_at, duration_ms, error, result, payload, schedule_id, parent_run_id, worker, stream_seq, error_stack, max_attempts
         FROM job_attempts WHERE run_id LIKE $1 || '-%' ORDER BY run`,
      [prefix],
    ));

  it('stores the same rows in a small and a large batch, nulls as SQL NULL and text exactly as given', async () => {
    await write(variety('small'));
    const filler = Array.from({ length: 150 }, (_, i) => record(`large-filler${String(i).padStart(3, '0')}`));
    await write([...variety('large'), ...filler]);

    const small = await stored('small');
    const large = (await stored('large')).filter((r) => !String(r.run).startsWith('filler'));
    expect(small).toHaveLength(4);
    expect(large).toEqual(small);
    const retry = small.find((r) => r.run === 'retry')!;
    expect(retry).toMatchObject({ error: hostile, result: null, company_id: null, final: false, failed: true, payload: { to: 'x@example.com', list: [1, null, 'a\tb'] } });
    expect(small.find((r) => r.run === 'ok')).toMatchObject({ duration_ms: 25, final: true, failed: false, payload: null, result: { data: { note: 'tab\there\nline "quoted" \\ back ✓' } } });
    expect(small.find((r) => r.run === 'dead')).toMatchObject({
      payload: 'a bare string payload', schedule_id: 'sched-1', parent_run_id: 'parent-1', scheduled_for: at, max_attempts: 3,
      error_stack: '    at deliver (apps/notifier/src/email.ts:10:5)\n    at "quoted" \\ tab\there',
    });
    expect(small.find((r) => r.run === 'lost')).toMatchObject({ stream_seq: null, final: false, failed: true });
  });

  it('settles planned runs and adds to the per-minute rollup the same way', async () => {
    const minute = new Date('2026-12-04T10:15:00.000Z');
    for (const prefix of ['psmall', 'plarge']) {
      await database.query(
        `INSERT INTO job_runs (id, job, queue, state, attempts, company_id, scheduled_for) VALUES ($1, 'svc.planned', 'normal', 'queued', 0, 'acme', now()),
                ($2, 'svc.planned', 'normal', 'queued', 0, 'acme', now())`,
        [`${prefix}-a`, `${prefix}-b`],
      );
    }
    const planned = (prefix: string) => [
      record(`${prefix}-a`, { job: 'svc.planned', planned: true }),
      record(`${prefix}-b`, { job: 'svc.planned', planned: true, outcome: 'retrying', error: 'try again', result: null }),
    ];
    await write(planned('psmall'));
    const rollupAfterSmall = await database.query(
      `SELECT sum(succeeded)::int AS succeeded, sum(retried)::int AS retried, sum(duration_ms_sum)::int AS duration_ms_sum FROM job_stats WHERE job = 'svc.planned' AND minute = $1`,
      [minute],
    );
    expect(rollupAfterSmall).toEqual([{ succeeded: 1, retried: 1, duration_ms_sum: 50 }]);

    await write([...planned('plarge'), ...Array.from({ length: 120 }, (_, i) => record(`pfill-${i}`, { job: 'svc.filler' }))]);
    const runs = await database.query(`SELECT id, state, attempts, error FROM job_runs WHERE id LIKE 'p%' ORDER BY id`);
    expect(runs).toEqual([
      { id: 'plarge-a', state: 'succeeded', attempts: 1, error: null },
      { id: 'plarge-b', state: 'retrying', attempts: 1, error: 'try again' },
      { id: 'psmall-a', state: 'succeeded', attempts: 1, error: null },
      { id: 'psmall-b', state: 'retrying', attempts: 1, error: 'try again' },
    ]);
    // The COPY batch carries the planned runs as a quoted literal: text that needs escaping arrives as given.
    expect(await database.query(`SELECT result FROM job_runs WHERE id IN ('psmall-a', 'plarge-a')`)).toEqual([{ result: record('x').result }, { result: record('x').result }]);
    const rollup = await database.query(
      `SELECT job, sum(succeeded)::int AS succeeded, sum(retried)::int AS retried FROM job_stats WHERE minute = $1 AND job IN ('svc.planned', 'svc.filler') GROUP BY job ORDER BY job`,
      [minute],
    );
    expect(rollup).toEqual([{ job: 'svc.filler', succeeded: 120, retried: 0 }, { job: 'svc.planned', succeeded: 2, retried: 2 }]);
  });

  it('counts a batch through the job_stats view at once, and the same once rolled up, names kept exactly', async () => {
    const minute = new Date('2026-12-04T10:15:00.000Z');
    const tenant = 'co "quoted", {braced} \\ back\\slash NULL ✓';
    const job = 'svc.odd,{job}"';
    const rows = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => record(`${prefix}-${i}`, { job, companyId: tenant, durationMs: 3 }));
    await write(rows('osmall', 2));
    await write(rows('olarge', 120));
    const counts = (from: string) => database.query(
      `SELECT company_id, queue, sum(succeeded)::int AS succeeded, sum(duration_ms_sum)::int AS ms FROM ${from} WHERE job = $1 AND minute = $2 GROUP BY 1, 2`,
      [job, minute],
    );
    const histogram = async (from: string) => (await database.query<{ h: number[] }>(
      `SELECT array_agg(n ORDER BY i) AS h FROM (SELECT i, sum(n)::int AS n FROM ${from}, unnest(duration_hist) WITH ORDINALITY AS u(n, i) WHERE job = $1 GROUP BY i) b`,
      [job],
    ))[0].h;
    const expected = [{ company_id: tenant, queue: 'normal', succeeded: 122, ms: 366 }];
    expect(await counts('job_stats')).toEqual(expected);
    expect(await counts('job_stats_minute')).toEqual([]);
    const before = await histogram('job_stats');
    expect(before).toHaveLength(22);
    expect(before[2]).toBe(122);

    while ((await roller.roll()).batches > 0);
    expect(await counts('job_stats')).toEqual(expected);
    expect(await counts('job_stats_minute')).toEqual(expected);
    expect(await histogram('job_stats')).toEqual(before);
    expect(await database.query(`SELECT count(*)::int AS n FROM job_history_batches`)).toEqual([{ n: 0 }]);
  });

  it('refuses a batch whose text Postgres cannot store, small or large, so the writer can retry its rows alone', async () => {
    await expect(write([record('nul-small', { error: 'bad \u0000 byte' })])).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
    const many = Array.from({ length: 120 }, (_, i) => record(`nul-large-${i}`, { error: i === 60 ? 'bad \u0000 byte' : null }));
    await expect(write(many)).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
    expect(await database.query(`SELECT count(*)::int AS n FROM job_attempts WHERE run_id LIKE 'nul-%'`)).toEqual([{ n: 0 }]);
  });

  it('stores a batch retried after a lost answer once, small or large: the retry finds the rows its earlier try committed', async () => {
    for (const size of [3, 150]) {
      const id = await history.batchId();
      const rows = Array.from({ length: size }, (_, i) => record(`again${size}-${i}`));
      await history.write(rows, id);
      // The writer's retry of the same batch (same id) after its first try's answer was lost.
      await history.write(rows, id, true);
      expect(await database.query(`SELECT count(*)::int AS n, count(DISTINCT batch_id)::int AS batches FROM job_attempts WHERE run_id LIKE $1`, [`again${size}-%`]))
        .toEqual([{ n: size, batches: 1 }]);
    }
    // A retry of a batch whose earlier try did not commit writes it.
    const rows = Array.from({ length: 150 }, (_, i) => record(`first-${i}`));
    await history.write(rows, await history.batchId(), true);
    expect(await database.query(`SELECT count(*)::int AS n FROM job_attempts WHERE run_id LIKE 'first-%'`)).toEqual([{ n: 150 }]);
  });

  it('commits a COPY batch whole or not at all: a refused one leaves no marker, and the next batch is stored', async () => {
    const markers = async () => (await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_history_batches`))[0].n;
    const before = await markers();
    const refused = Array.from({ length: 150 }, (_, i) => record(`whole-bad-${i}`, { error: i === 149 ? 'bad \u0000 byte' : null }));
    await expect(write(refused)).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
    expect(await markers()).toBe(before);
    // Batches at once, as the writer sends them (three in flight), each with its own batch id.
    await Promise.all([0, 1, 2].map((b) => write(Array.from({ length: 150 }, (_, i) => record(`whole-ok${b}-${i}`)))));
    expect(await markers()).toBe(before + 3);
    expect(await database.query(`SELECT count(*)::int AS n, count(DISTINCT batch_id)::int AS batches FROM job_attempts WHERE run_id LIKE 'whole-%'`)).toEqual([{ n: 450, batches: 3 }]);
  });

  it('stores a row whose result cannot be JSON (a BigInt, a cycle) or is over 1 MB without it, and its batch with it', async () => {
    const writer = new HistoryWriter(history, new MetronomeMetrics('scheduler'), createRootLogger('silent', 'test'));
    const cycle: Record<string, unknown> = { status: 'success' };
    cycle.self = cycle;
    const rows = [
      record('json-ok-1'),
      record('json-bigint', { result: { status: 'success', data: { count: 10n } } }),
      record('json-cycle', { result: cycle, planned: true }),
      record('json-ok-2'),
      record('json-huge', { result: { status: 'success', data: 'x'.repeat(1_200_000) }, planned: true }),
    ];
    await Promise.all(rows.map((r) => writer.record(r)));
    await writer.flush();
    expect(await database.query(`SELECT run_id, result IS NULL AS no_result FROM job_attempts WHERE run_id LIKE 'json-%' ORDER BY run_id`)).toEqual([
      { run_id: 'json-bigint', no_result: true },
      { run_id: 'json-cycle', no_result: true },
      { run_id: 'json-huge', no_result: true },
      { run_id: 'json-ok-1', no_result: false },
      { run_id: 'json-ok-2', no_result: false },
    ]);
  }, 20_000);

  it('stores an attempt whose error or stack holds a NUL byte (text Postgres refuses) with the NULs replaced', async () => {
    const writer = new HistoryWriter(history, new MetronomeMetrics('scheduler'), createRootLogger('silent', 'test'));
    await Promise.all([
      writer.record(record('nul-writer-error', { outcome: 'retrying', error: 'bad \u0000 byte', result: null })),
      writer.record(record('nul-writer-stack', { outcome: 'dead', error: 'ok', errorStack: '    at parse (\u0000bin.ts:1:1)', result: null })),
      writer.record(record('nul-writer-ok')),
    ]);
    expect(await database.query(`SELECT run_id, error, error_stack FROM job_attempts WHERE run_id LIKE 'nul-writer-%' ORDER BY run_id`)).toEqual([
      { run_id: 'nul-writer-error', error: 'bad \uFFFD byte', error_stack: null },
      { run_id: 'nul-writer-ok', error: null, error_stack: null },
      { run_id: 'nul-writer-stack', error: 'ok', error_stack: '    at parse (\uFFFDbin.ts:1:1)' },
    ]);
  }, 20_000);
});
