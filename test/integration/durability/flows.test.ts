import { Injectable } from '@nestjs/common';
import {
  declareJobDependencies,
  DependencyCycleError,
  FlowEnqueuer,
  FlowsModule,
  JobEnqueuerModule,
  JobHandler,
  PermanentError,
  type ChildResult,
  type JobContext,
} from '../../../libs/common/src/index.js';
import { RuntimeHarness } from '../runtime/runtime-support.js';
import { sleep, waitFor } from './durability-support.js';

const CHILD = 'rt.import';
const PARENT = 'rt.report';
const events: { what: string; at: number; label?: string }[] = [];
const seen = new Map<string, readonly ChildResult[]>();

@Injectable()
class FlowHandlers {
  @JobHandler(CHILD, { maxAttempts: 1 })
  async child(ctx: JobContext<{ label: string; sleepMs: number; fail?: boolean }>) {
    events.push({ what: 'child-start', at: Date.now(), label: ctx.payload.label });
    await sleep(ctx.payload.sleepMs);
    if (ctx.payload.fail) throw new PermanentError(`import ${ctx.payload.label} rejected`);
    events.push({ what: 'child-end', at: Date.now(), label: ctx.payload.label });
    return { status: 'success' as const, data: { rows: ctx.payload.sleepMs } };
  }

  @JobHandler(PARENT)
  async parent(ctx: JobContext<{ label: string }>) {
    events.push({ what: 'parent-start', at: Date.now(), label: ctx.payload.label });
    seen.set(ctx.payload.label, ctx.childResults);
    const rows = ctx.childResults.reduce((n, c) => n + ((c.result as { data?: { rows?: number } })?.data?.rows ?? 0), 0);
    return { status: 'success' as const, recordsProcessed: rows };
  }
}

describe('flows: a parent runs after its children', () => {
  const h = new RuntimeHarness();
  let flows: FlowEnqueuer;

  beforeAll(async () => {
    await h.start();
    const app = await h.app({ names: [CHILD, PARENT], providers: [FlowHandlers], imports: [JobEnqueuerModule, FlowsModule] });
    flows = app.get(FlowEnqueuer);
  });
  afterAll(() => h.stop());

  it('a parent waits for three children, then runs with their results', async () => {
    const root = await flows.enqueue({
      job: PARENT,
      payload: { label: 'ok' },
      options: { companyId: 'acme' },
      children: [300, 600, 900].map((ms, i) => ({ job: CHILD, payload: { label: `c${i}`, sleepMs: ms } })),
    });
    expect(root.children).toHaveLength(3);
    // While children run, the parent is held (planned, not published).
    await sleep(200);
    expect((await h.run(root.runId)).state).toBe('scheduled');

    const parent = await waitFor(async () => {
      const r = await h.run(root.runId);
      return r?.state === 'succeeded' ? r : null;
    }, { what: 'the parent to succeed' });
    const lastChildEnd = Math.max(...events.filter((e) => e.what === 'child-end').map((e) => e.at));
    const parentStart = events.find((e) => e.what === 'parent-start' && e.label === 'ok')!.at;
    expect(events.filter((e) => e.what === 'child-end')).toHaveLength(3);
    expect(parentStart).toBeGreaterThanOrEqual(lastChildEnd);
    expect(parent!.result.recordsProcessed).toBe(1800);
    const children = seen.get('ok')!;
    expect(children.map((c) => c.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(children.map((c) => c.runId).sort()).toEqual(root.children.map((c) => c.runId).sort());
    // Each child's history names its parent (the planned child rows too).
    const links = await h.database.query<{ run_id: string; parent_run_id: string }>(
      `SELECT run_id, parent_run_id FROM job_attempts WHERE run_id = ANY($1) UNION SELECT id, parent_run_id FROM job_runs WHERE id = ANY($1)`,
      [root.children.map((c) => c.runId)],
    );
    expect(links.filter((l) => l.parent_run_id === root.runId).map((l) => l.run_id).sort()).toEqual(root.children.map((c) => c.runId).sort());
    expect(links.filter((l) => l.parent_run_id !== root.runId)).toEqual([]);
  });

  it("policy 'fail': a failed child fails the parent, which never runs", async () => {
    const root = await flows.enqueue({
      job: PARENT,
      payload: { label: 'failing' },
      children: [{ job: CHILD, payload: { label: 'bad', sleepMs: 10, fail: true } }, { job: CHILD, payload: { label: 'slow', sleepMs: 400 } }],
    });
    const parent = await waitFor(async () => {
      const r = await h.run(root.runId);
      return r?.state === 'failed' ? r : null;
    }, { what: 'the parent to fail' });
    expect(parent!.error).toMatch(/ended dead/);
    await sleep(700);
    expect(seen.has('failing')).toBe(false);
  });

  it("policy 'continue': the parent runs once every child settled, failed ones included", async () => {
    const root = await flows.enqueue({
      job: PARENT,
      payload: { label: 'continue' },
      onChildFailure: 'continue',
      children: [{ job: CHILD, payload: { label: 'bad2', sleepMs: 10, fail: true } }, { job: CHILD, payload: { label: 'good2', sleepMs: 200 } }],
    });
    await waitFor(async () => (await h.run(root.runId))?.state === 'succeeded', { what: 'the parent to run' });
    expect(seen.get('continue')!.map((c) => c.state).sort()).toEqual(['dead', 'succeeded']);
  });

  it('a cycle is refused: in a flow, and in declared job dependencies', async () => {
    await expect(
      flows.enqueue({ job: PARENT, payload: {}, children: [{ job: CHILD, payload: {}, children: [{ job: PARENT, payload: {} }] }] }),
    ).rejects.toThrow(DependencyCycleError);
    declareJobDependencies('rt.a', ['rt.b'], true);
    declareJobDependencies('rt.b', ['rt.c'], true);
    let error: unknown;
    try {
      declareJobDependencies('rt.c', ['rt.a'], true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as DependencyCycleError).path).toEqual(['rt.a', 'rt.b', 'rt.c', 'rt.a']);
    // The refused declaration was not recorded: the graph is still acyclic and usable.
    expect(flows.fromDependencies('rt.a', {}).children?.[0].children?.[0].job).toBe('rt.c');
    const [{ n }] = await h.database.query<{ n: string }>(`SELECT count(*) AS n FROM job_runs WHERE payload = '{}'::jsonb`);
    expect(Number(n)).toBe(0);
  });
});
