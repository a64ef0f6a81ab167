import type { EnqueueOptions } from '../job-enqueuer.js';

/** What a flow's parent does when a child ends failed, dead or cancelled. */
export type ChildFailurePolicy = 'fail' | 'continue';

/** One node of a flow: a job, its payload, and the children that must settle before it runs. */
export interface FlowSpec<P = unknown> {
  job: string;
  payload: P;
  options?: EnqueueOptions;
  children?: FlowSpec[];
  /** 'fail' (default): the parent fails as soon as a child fails; 'continue': it runs once every child settled, whatever the outcome. */
  onChildFailure?: ChildFailurePolicy;
}

/** A child run as its parent sees it (ctx.childResults). */
export interface ChildResult {
  runId: string;
  job: string;
  state: string;
  result: unknown;
  error: string | null;
}

/** The planned tree: run ids in the shape of the spec. */
export interface FlowNode {
  runId: string;
  job: string;
  children: FlowNode[];
}
