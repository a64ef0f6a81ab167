import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { FieldEncryption, sensitiveFieldsOf } from '../../crypto/field-cipher.js';
import type { CloudEvent } from '../../messaging/cloud-event.js';
import { EventPublisher } from '../../messaging/event-publisher.js';
import { assertSubjectToken } from '../../messaging/subjects.js';
import { Clock } from '../clock.js';
import { planRun } from '../job-enqueuer.js';
import { OutboxRelay, outboxRowOf } from '../outbox-relay.js';
import { OutboxRepository, type PlannedRun } from '../outbox.repository.js';
import type { FlowNode, FlowSpec } from './flow.types.js';
import { assertNoDependencyCycle, DependencyCycleError, jobDependencies } from './job-dependencies.js';

/** A parent's outbox row waits with this due time until its children settle; no relay picks it before. */
export const HELD_UNTIL_CHILDREN = new Date('9999-12-31T00:00:00.000Z');

/**
 * Enqueues a flow (BullMQ-style): a tree of runs where each parent runs only
 * once its children settled. Every run of the tree is planned in one
 * transaction (job_runs + outbox, parent_run_id and the parent's policy set);
 * the leaves are published at once, each parent's outbox row is held
 * (not_before far in the future) until FlowCoordinator releases or fails it.
 */
@Injectable()
export class FlowEnqueuer {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    private readonly cipher: FieldEncryption,
  ) {}

  /**
   * A flow for `job` from its declared dependencies (@JobHandler `dependsOn`):
   * each dependency becomes a child (recursively) with the same payload and tenant.
   */
  fromDependencies<P>(job: string, payload: P, options: FlowSpec['options'] = {}): FlowSpec<P> {
    assertNoDependencyCycle();
    const build = (name: string): FlowSpec => {
      const deps = jobDependencies(name);
      return { job: name, payload, options, children: deps.length ? deps.map(build) : undefined };
    };
    return build(job) as FlowSpec<P>;
  }

  async enqueue(flow: FlowSpec): Promise<FlowNode> {
    const { root, publish } = await this.outbox.transaction((tx) => this.enqueueWithin(tx, flow));
    await publish();
    return root;
  }

  /** Plans the flow inside the caller's transaction; call `publish()` after the commit. */
  async enqueueWithin(tx: EntityManager, flow: FlowSpec): Promise<{ root: FlowNode; publish: () => Promise<void> }> {
    assertAcyclicFlow(flow);
    const now = this.clock.now();
    const planned: PlannedRun[] = [];
    const links: { id: string; parent: string | null; policy: string | null }[] = [];
    const plan = (spec: FlowSpec, parent: PlannedRun | null): FlowNode => {
      for (const token of spec.job.split('.')) assertSubjectToken(token, 'job name segment');
      const o = spec.options ?? {};
      const hasChildren = (spec.children?.length ?? 0) > 0;
      const paths = [...sensitiveFieldsOf(spec.job), ...(o.sensitive ?? [])];
      const payload = paths.length ? this.cipher.encryptPaths(spec.payload ?? {}, paths) : spec.payload;
      const scheduledFor = o.runAt ?? new Date(now.getTime() + (o.delayMs ?? 0));
      const run = planRun({
        source: this.publisher.source,
        job: spec.job,
        payload,
        now,
        runId: o.runId,
        companyId: o.companyId ?? parent?.companyId ?? null,
        scheduledFor,
        notBefore: hasChildren ? HELD_UNTIL_CHILDREN : scheduledFor.getTime() > now.getTime() ? scheduledFor : null,
        idempotencyKey: o.idempotencyKey ?? null,
        options: o,
      });
      const data = (run.body as CloudEvent<Record<string, unknown>>).data;
      if (parent) data.parentRunId = parent.id;
      if (hasChildren) data.flow = true;
      planned.push(run);
      links.push({ id: run.id, parent: parent?.id ?? null, policy: hasChildren ? spec.onChildFailure ?? 'fail' : null });
      return { runId: run.id, job: spec.job, children: (spec.children ?? []).map((c) => plan(c, run)) };
    };
    const root = plan(flow, null);
    const inserted = await this.outbox.insertRuns(tx, planned);
    if (inserted.length !== planned.length) throw new Error('a run of the flow already exists (explicit runId reused)');
    await tx.query(
      `UPDATE job_runs r SET parent_run_id = v.parent, flow_policy = v.policy
         FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, parent, policy)
        WHERE r.id = v.id AND (v.parent IS NOT NULL OR v.policy IS NOT NULL)`,
      [links.map((l) => l.id), links.map((l) => l.parent), links.map((l) => l.policy)],
    );
    const due = inserted.filter((r) => r.notBefore === null);
    const later = inserted.filter((r) => r.notBefore !== null && r.notBefore !== HELD_UNTIL_CHILDREN);
    return {
      root,
      publish: async () => {
        for (const r of later) void this.relay.publishAt([outboxRowOf(r)], r.notBefore!);
        await this.relay.publishNow(due.map(outboxRowOf));
      },
    };
  }
}

/** Refuses a flow in which a job is its own ancestor (A → B → A): it could never start. */
export function assertAcyclicFlow(flow: FlowSpec): void {
  const walk = (spec: FlowSpec, path: string[]): void => {
    const at = path.indexOf(spec.job);
    if (at >= 0) throw new DependencyCycleError([...path.slice(at), spec.job]);
    for (const c of spec.children ?? []) walk(c, [...path, spec.job]);
  };
  walk(flow, []);
}
