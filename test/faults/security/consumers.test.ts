import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createCloudEvent, encodeCloudEvent, MESSAGE_CONTRACTS, STREAMS, subjects } from '../../../libs/common/src/index.js';
import { scenario } from '../support/recorder.js';
import { sleep, waitFor } from '../../support/wait.js';
import { FourServices, tenantFingerprint } from './services.js';

/**
 * Security: every consumed event type (MESSAGE_CONTRACTS, so new contracts are
 * covered) published on tenant A's subject while naming tenant B, and
 * thousands of generated events to every consumer. Nothing of B changes, every
 * message is settled, every consumer keeps going.
 */
const A = 'acme';
const B = 'globex';
const env = new FourServices();
const TYPES = Object.keys(MESSAGE_CONTRACTS);

beforeAll(async () => {
  await env.start();
}, 120_000);
afterAll(async () => {
  await env.stop();
});

/** Every EVENTS consumer has delivered and settled everything. */
async function drained(): Promise<boolean> {
  for await (const c of env.jsm.consumers.list(STREAMS.EVENTS)) {
    if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
  }
  return true;
}

async function publish(subject: string, companyId: string | undefined, type: string, data: unknown): Promise<string> {
  const e = createCloudEvent({ type, source: 'security-test', companyId, data });
  await env.js.publish(subject, encodeCloudEvent(e), { msgID: e.id });
  return e.id;
}

describe('security: consumers', () => {
  it('refuses, on every consumed type, an event on tenant A\'s subject that names tenant B (envelope or payload)', async () => {
    await scenario('S4 cross-tenant-subjects', async (c) => {
      const before = await tenantFingerprint(env.database, B);
      const ids: string[] = [];
      for (const type of TYPES) {
        const data = { companyId: B, id: `x-${type}`, userId: 'u1', role: 'admin', version: 1, documentId: 'd1', runId: 'r1', job: 'j', title: 't', occurredAt: new Date().toISOString() };
        // Envelope names B on A's subject; envelope missing on A's subject with a B payload.
        ids.push(await publish(subjects.event(A, type), B, type, data));
        ids.push(await publish(subjects.event(A, type), undefined, type, data));
        c.faults += 2;
      }
      c.messages = ids.length;
      await waitFor(drained, { timeoutMs: 60_000, what: 'every consumer settled the hostile events' });
      const dead = await env.database.query<{ id: string; reason: string; consumer: string }>('SELECT id, reason, consumer FROM dead_letters WHERE id = ANY($1)', [ids]);
      const after = await tenantFingerprint(env.database, B);
      // The refused events' dead letters carry the tenant their envelope claims (B): the only rows of B that may appear.
      const changed = Object.keys(before).filter((t) => t !== 'dead_letters' && before[t] !== after[t]);
      const otherReasons = dead.filter((d) => d.reason !== 'tenant_mismatch');
      // Every hostile event a consumer handles is dead-lettered as tenant_mismatch (types nobody here handles are ignored).
      const refused = new Set(dead.map((d) => d.id));
      c.lost = changed.length + otherReasons.length;
      c.notes = `${TYPES.length} types; ${refused.size} of ${ids.length} hostile events dead-lettered (tenant_mismatch) by ${new Set(dead.map((d) => d.consumer)).size} consumers; B tables changed: ${changed.join(', ') || 'none'}`;
      expect(changed).toEqual([]);
      expect(otherReasons).toEqual([]);
      expect(refused.size).toBeGreaterThan(ids.length * 0.6);
    });
  }, 120_000);

  it('fuzzes every consumer with thousands of generated events: all settled, no crash, nothing of another tenant touched', async () => {
    await scenario('S5 fuzz-consumers', async (c) => {
      const before = await tenantFingerprint(env.database, B);
      const value = fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom(A, B, '', '*', '>'));
      const payload = fc.oneof(
        fc.dictionary(fc.constantFrom('companyId', 'id', 'userId', 'role', 'version', 'occurredAt', 'expiresAt', 'title', 'documentId', 'runId', 'job', 'type', 'templateId', 'eventId', 'at', 'status', 'email', 'locale', 'roles'), value, { maxKeys: 10 })
          .map((d) => ({ companyId: A, ...d })),
        fc.jsonValue(),
      );
      let published = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...TYPES), payload, fc.boolean(), async (type, data, raw) => {
          if (raw) {
            await env.js.publish(subjects.event(A, type), new TextEncoder().encode(JSON.stringify(data)));
          } else {
            await publish(subjects.event(A, type), A, type, data);
          }
          published++;
        }),
        { numRuns: 2_000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
      );
      c.messages = published;
      c.faults = published;
      const settled = await waitFor(drained, { timeoutMs: 180_000, intervalMs: 500, what: 'every consumer settled the generated events' }).catch(() => false);
      await sleep(500);
      const after = await tenantFingerprint(env.database, B);
      const changed = Object.keys(before).filter((t) => before[t] !== after[t]);
      const health = await Promise.all(env.apps.map(async (a) => (await fetch(`${a.base}/readyz`)).status));
      const reasons = await env.database.query<{ reason: string; n: string }>('SELECT reason, count(*) n FROM dead_letters GROUP BY reason ORDER BY reason');
      c.lost = (settled ? 0 : 1) + changed.length + health.filter((s) => s !== 200).length;
      c.notes = `${published} generated events over ${TYPES.length} types; dead letters by reason ${JSON.stringify(Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)])))}`;
      expect(settled).toBe(true);
      expect(changed).toEqual([]);
      expect(health).toEqual(env.apps.map(() => 200));
    });
  }, 400_000);
});
