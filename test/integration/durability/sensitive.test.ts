import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  FieldCipher,
  JobEnqueuer,
  JobEnqueuerModule,
  JobHandler,
  PermanentError,
  REDACTED,
  redactEncrypted,
  rotateEncryptedRecords,
  type JobContext,
} from '../../../libs/common/src/index.js';
import { RuntimeHarness } from '../runtime/runtime-support.js';
import { captureLogs, newKey, waitFor } from './durability-support.js';

const SECRET_JOB = 'rt.secret';
const K1 = newKey();
const K2 = newKey();
const seenInHandler = new Map<string, string>();

interface SecretPayload {
  label: string;
  ssn: string;
  card: { number: string; brand: string };
}

@Injectable()
class SecretHandlers {
  @JobHandler(SECRET_JOB, { sensitive: ['payload.ssn', 'payload.card.number'], maxAttempts: 2 })
  async run(ctx: JobContext<SecretPayload>) {
    seenInHandler.set(ctx.payload.label, ctx.payload.ssn);
    ctx.logger.warn({ payload: ctx.payload }, 'processing payload');
    ctx.logger.warn({ ssn: ctx.payload.ssn, card: ctx.payload.card }, 'fields');
    const masked = await ctx.step.run('lookup', () => ({ ssn: ctx.payload.ssn, ok: true }));
    if (ctx.payload.label.startsWith('dlq')) throw new PermanentError('registry refused the record');
    return { status: 'success' as const, data: { ok: masked.ok } };
  }
}

describe('sensitive payloads', () => {
  const h = new RuntimeHarness();
  let enqueuer: JobEnqueuer;
  let ds: DataSource;
  let logs: string[];

  beforeAll(async () => {
    await h.start();
    const app = await h.app({
      names: [SECRET_JOB],
      providers: [SecretHandlers],
      imports: [JobEnqueuerModule],
      env: { ENCRYPTION_KEYS: `k1:${K1}`, ENCRYPTION_ACTIVE_KEY: 'k1', LOG_LEVEL: 'info' },
    });
    enqueuer = app.get(JobEnqueuer);
    ds = app.get(DataSource);
    logs = captureLogs(app);
  });
  afterAll(() => h.stop());

  const SSN = '123-45-6789';
  const CARD = '4111111111111111';
  const DLQ_SSN = '987-65-4321';

  it('is unreadable in the stream, the history and the DLQ, readable in the handler, redacted in logs and API views', async () => {
    // Every job message as it goes into JOBS (a work-queue stream drops each once acked, so read them on the way in).
    const published: string[] = [];
    const tap = h.nc.subscribe('jobs.>', { callback: (_e, m) => void published.push(new TextDecoder().decode(m.data)) });
    await h.nc.flush();
    const ok = await enqueuer.enqueue(SECRET_JOB, { label: 'ok', ssn: SSN, card: { number: CARD, brand: 'visa' } }, { companyId: 'acme' });
    const bad = await enqueuer.enqueue(SECRET_JOB, { label: 'dlq', ssn: DLQ_SSN, card: { number: CARD, brand: 'visa' } }, { companyId: 'acme' });
    // A keyed enqueue is planned: a job_runs row and an outbox body hold its payload until (and after) it runs.
    const planned = await enqueuer.enqueue(SECRET_JOB, { label: 'planned', ssn: SSN, card: { number: CARD, brand: 'visa' } }, { companyId: 'acme', idempotencyKey: 'sensitive-planned' });
    await waitFor(async () => (await h.run(ok.runId))?.state === 'succeeded', { what: 'the run to succeed' });
    await waitFor(async () => (await h.run(bad.runId))?.state === 'dead', { what: 'the run to be dead-lettered' });
    await waitFor(async () => (await h.run(planned.runId))?.state === 'succeeded', { what: 'the planned run to succeed' });
    tap.unsubscribe();

    // The handler had the plain values.
    expect(seenInHandler.get('ok')).toBe(SSN);
    expect(seenInHandler.get('dlq')).toBe(DLQ_SSN);
    expect(seenInHandler.get('planned')).toBe(SSN);

    // The raw JetStream messages, every one of them: the jobs as published, and the dead letter the DLQ stream keeps.
    expect(published.length).toBeGreaterThanOrEqual(3);
    const dlq = await h.jsm.streams.info('DLQ');
    const dlqTexts: string[] = [];
    for (let seq = dlq.state.first_seq; seq <= dlq.state.last_seq; seq++) {
      const m = await h.jsm.streams.getMessage('DLQ', { seq });
      if (m) dlqTexts.push(new TextDecoder().decode(m.data));
    }
    expect(dlqTexts).toHaveLength(1);
    for (const t of [...published, ...dlqTexts]) {
      expect(t).not.toContain(SSN);
      expect(t).not.toContain(DLQ_SSN);
      expect(t).not.toContain(CARD);
      expect(t).toMatch(/\\?"\$enc\\?":\\?"v1\\?",\\?"kid\\?":\\?"k1/); // the dead letter holds the message as JSON text
      expect(t).toContain('visa'); // fields not declared sensitive stay readable
    }

    // Run history (the dead attempt keeps its payload; a success keeps none), the planned run and its outbox body,
    // step results and the dead letter.
    const stored = await h.database.query<{ t: string; src: string }>(
      `SELECT payload::text AS t, 'job_attempts' AS src FROM job_attempts WHERE payload IS NOT NULL
       UNION ALL SELECT payload::text, 'job_runs' FROM job_runs UNION ALL SELECT body::text, 'outbox' FROM outbox
       UNION ALL SELECT result::text, 'job_steps' FROM job_steps UNION ALL SELECT payload, 'dead_letters' FROM dead_letters`,
    );
    expect(stored.map((r) => r.src).sort()).toEqual(['dead_letters', 'job_attempts', 'job_runs', 'job_steps', 'job_steps', 'job_steps', 'outbox']);
    for (const { t } of stored) {
      expect(t).not.toContain(SSN);
      expect(t).not.toContain(DLQ_SSN);
      expect(t).not.toContain(CARD);
      expect(t).toContain('"$enc"');
    }
    const [dead] = await h.database.query<{ payload: string; run_id: string }>(`SELECT payload, run_id FROM dead_letters`);
    expect(dead.run_id).toBe(bad.runId);

    // Logs: the handler logged the payload and the fields; every line shows them redacted.
    const lines = logs.filter((l) => l.includes(SECRET_JOB));
    expect(lines.some((l) => l.includes('processing payload'))).toBe(true);
    for (const l of logs) {
      expect(l).not.toContain(SSN);
      expect(l).not.toContain(DLQ_SSN);
      expect(l).not.toContain(CARD);
    }
    const fields = JSON.parse(lines.find((l) => l.includes('"msg":"fields"'))!);
    expect(fields.ssn).toBe(REDACTED);
    expect(fields.card.number).toBe(REDACTED);
    expect(fields.card.brand).toBe('visa');
    expect(JSON.parse(lines.find((l) => l.includes('processing payload'))!).payload.ssn).toBe(REDACTED);

    // What API responses show (a failed run's history, a planned run, DLQ inspect): redacted.
    const [deadAttempt] = await h.database.query<{ payload: unknown }>('SELECT payload FROM job_attempts WHERE run_id = $1', [bad.runId]);
    expect(redactEncrypted(deadAttempt.payload)).toEqual({ label: 'dlq', ssn: REDACTED, card: { number: REDACTED, brand: 'visa' } });
    const [plannedRow] = await h.database.query<{ payload: unknown }>('SELECT payload FROM job_runs WHERE id = $1', [planned.runId]);
    expect(redactEncrypted(plannedRow.payload)).toEqual({ label: 'planned', ssn: REDACTED, card: { number: REDACTED, brand: 'visa' } });
    expect(redactEncrypted(JSON.parse(dead.payload)).data.payload.ssn).toBe(REDACTED);
  });

  it('key rotation re-encrypts stored records under the new key; old records stay readable throughout', async () => {
    const both = new FieldCipher({ k1: Buffer.from(K1, 'base64'), k2: Buffer.from(K2, 'base64') }, 'k2');
    const onlyK2 = new FieldCipher({ k2: Buffer.from(K2, 'base64') }, 'k2');
    // The stored payloads: the planned run's row and the dead run's failed attempt.
    const PAYLOADS = `SELECT id, payload FROM job_runs UNION ALL SELECT run_id, payload FROM job_attempts WHERE payload IS NOT NULL ORDER BY 1`;
    const before = await h.database.query<{ id: string; payload: unknown }>(PAYLOADS);
    // With k2 active and k1 still configured, records written under k1 are readable.
    const plain = before.map((r) => both.decryptDeep(r.payload) as SecretPayload);
    expect(plain.map((p) => p.ssn).sort()).toEqual([SSN, DLQ_SSN].sort());

    const counts = await rotateEncryptedRecords(ds, both);
    expect(Object.fromEntries(counts.map((c) => [c.table, c.rewritten]))).toEqual({ job_runs: 1, job_attempts: 1, outbox: 1, dead_letters: 1, job_steps: 3, notifier_webhooks: 0 });
    const all = await h.database.query<{ t: string }>(
      `SELECT payload::text AS t FROM job_runs UNION ALL SELECT payload::text FROM job_attempts WHERE payload IS NOT NULL
       UNION ALL SELECT body::text FROM outbox UNION ALL SELECT result::text FROM job_steps UNION ALL SELECT payload FROM dead_letters`,
    );
    for (const { t } of all) {
      expect(t).not.toMatch(/"kid":\s*"k1"/);
      expect(t).toMatch(/"kid":\s*"k2"/);
    }
    // Same values, now readable with k2 alone; a second rotation has nothing to do.
    const after = await h.database.query<{ id: string; payload: unknown }>(PAYLOADS);
    expect(after.map((r) => onlyK2.decryptDeep(r.payload))).toEqual(plain);
    const [dead] = await h.database.query<{ payload: string }>(`SELECT payload FROM dead_letters`);
    expect((onlyK2.decryptDeep(JSON.parse(dead.payload)) as { data: { payload: SecretPayload } }).data.payload.ssn).toBe(DLQ_SSN);
    expect((await rotateEncryptedRecords(ds, both)).every((c) => c.rewritten === 0)).toBe(true);
  });
});
