import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createCloudEvent, encodeCloudEvent, subjects } from '../../libs/common/src/index.js';
import { FaultEnv, FAULT_JOB } from './support/harness.js';
import { scenario } from './support/recorder.js';
import { freePort } from '../support/nats-server.js';
import { ServiceProcess } from '../support/service-process.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Scenario 8: poison messages to the documents service's event consumer (a real
 * process) and to a fault worker's job consumer. Each is dead-lettered with its
 * reason, and good messages behind them are still processed.
 */
const env = new FaultEnv(2_000);
let documents: ServiceProcess;
const enc = new TextEncoder();

beforeAll(async () => {
  await env.start();
  documents = new ServiceProcess('apps/documents/src/main.js', {
    NATS_URLS: env.nats.url,
    DATABASE_URL: env.database.url,
    DOCUMENTS_PORT: String(await freePort()),
    TICK_INTERVAL_MS: '3600000',
    INSTANCE_ID: 'documents-1',
  }).start();
  await documents.waitForLog('documents started', 60_000);
  await env.worker();
});
afterAll(async () => {
  documents?.kill('SIGKILL');
  await documents?.exited;
  await env.stop();
});

interface Poison {
  name: string;
  subject: string;
  body: Uint8Array;
  /** Reasons accepted in dead_letters. */
  reasons: string[];
  id?: string;
  /** Stream sequence, set at publish: the dead-letter id of a body that is not a CloudEvent. */
  deadLetterId?: string;
}

const event = (companyId: string | undefined, data: unknown, type = 'document.upserted') => {
  const e = createCloudEvent({ type, source: 'faults-test', data, companyId });
  return { id: e.id, body: encodeCloudEvent(e) };
};

describe('poison messages', () => {
  it('8: malformed JSON, wrong field types, oversize, missing or mismatching tenant: dead-lettered with the reason while the consumers keep going', async () => {
    await scenario('8 poison-messages', async (c) => {
      const acme = subjects.event('acme', 'document.upserted');
      const poisons: Poison[] = [
        { name: 'malformed JSON event', subject: acme, body: enc.encode('{"specversion":"1.0","id":'), reasons: ['malformed'] },
        { name: 'not a CloudEvent', subject: acme, body: enc.encode('[1,2,3]'), reasons: ['malformed'] },
        { name: 'wrong field types', subject: acme, ...event('acme', { id: 42, companyId: 'acme', version: 'seven' }), reasons: ['invalid_payload'] },
        { name: 'oversize field', subject: acme, ...event('acme', { id: 'big', companyId: 'acme', version: 1, title: 'x'.repeat(600_000) }), reasons: ['invalid_payload'] },
        { name: 'missing companyId (envelope and payload)', subject: acme, ...event(undefined, { id: 'no-tenant', version: 1 }), reasons: ['invalid_payload', 'tenant_mismatch'] },
        { name: 'missing envelope companyid, payload names another tenant', subject: acme, ...event(undefined, { id: 'stray', companyId: 'globex', version: 1 }), reasons: ['tenant_mismatch', 'permanent_error'] },
        { name: 'malformed JSON job', subject: subjects.job('normal', FAULT_JOB), body: enc.encode('{{{'), reasons: ['malformed'] },
      ];
      const good: { key: string; runId: string }[] = [];
      const goodDocs: string[] = [];
      for (const p of poisons) {
        const ack = await env.js.publish(p.subject, p.body, p.id ? { msgID: p.id } : undefined);
        p.deadLetterId = p.id ?? `${ack.stream}-${ack.seq}`;
        c.faults++;
        // A good message right behind every poison one, on the same consumer.
        if (p.subject.startsWith('jobs.')) {
          const key = `k8-${good.length}`;
          good.push({ key, runId: await env.publish({ key }) });
        } else {
          const doc = `doc-${goodDocs.length}`;
          const e = event('acme', { id: doc, companyId: 'acme', version: 1, title: 'fine' });
          await env.js.publish(acme, e.body, { msgID: e.id });
          goodDocs.push(doc);
        }
      }
      // Over NATS's max_payload: refused at publish, never stored.
      let oversizeRefused = false;
      try {
        await env.js.publish(acme, new Uint8Array(2 * 1024 * 1024));
      } catch {
        oversizeRefused = true;
      }
      c.faults++;

      const dead = await waitFor(async () => {
        const rows = await env.database.query<{ id: string; reason: string; error: string; subject: string }>(
          'SELECT id, reason, error, subject FROM dead_letters WHERE id = ANY($1)',
          [poisons.map((p) => p.deadLetterId)],
        );
        return rows.length >= poisons.length ? rows : undefined;
      }, { timeoutMs: 30_000, what: 'every poison message dead-lettered' }).catch(async () =>
        env.database.query<{ id: string; reason: string; error: string; subject: string }>('SELECT id, reason, error, subject FROM dead_letters WHERE id = ANY($1)', [poisons.map((p) => p.deadLetterId)]));
      const processedDocs = await waitFor(async () => {
        const rows = await env.database.query<{ id: string }>(`SELECT id FROM documents WHERE company_id = 'acme' AND id = ANY($1)`, [goodDocs]);
        return rows.length === goodDocs.length ? rows : undefined;
      }, { timeoutMs: 30_000, what: 'good documents projected' }).catch(() => []);
      const r = await env.settle(new Map(good.map((g) => [g.key, g.runId])), 30_000);
      await sleep(500);

      const byId = new Map(dead!.map((d) => [d.id, d]));
      const wrong = poisons.filter((p) => !p.reasons.includes(byId.get(p.deadLetterId!)?.reason ?? ''));
      const leaked = await env.database.query(`SELECT company_id, id FROM documents WHERE id IN ('stray', 'no-tenant', 'big', '42')`);
      c.messages = poisons.length + goodDocs.length + good.length + 1;
      c.lost = (goodDocs.length - processedDocs!.length) + r.lost.length + wrong.length + (oversizeRefused ? 0 : 1);
      c.duplicated = r.duplicated.length;
      c.notes = poisons.map((p) => `${p.name}: ${byId.get(p.deadLetterId!)?.reason ?? 'NOT dead-lettered'}`).join('; ');
      expect(oversizeRefused).toBe(true);
      expect(wrong.map((p) => `${p.name}: ${byId.get(p.deadLetterId!)?.reason ?? 'not dead-lettered'}`)).toEqual([]);
      for (const d of dead!) expect(d.error.length).toBeGreaterThan(0);
      expect(leaked).toEqual([]);
      expect(processedDocs).toHaveLength(goodDocs.length);
      expect(r.lost).toEqual([]);
      expect(documents.exitCode).toBeNull();
      void randomUUID;
    });
  }, 120_000);
});
