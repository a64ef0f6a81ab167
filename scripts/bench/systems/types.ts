import type { BenchPayload } from '../common.js';
import type { BenchDatabase } from '../infra.js';

/** The orchestrator's side of one system: infrastructure, a producer, what to tear down. */
export interface SystemUnderTest {
  /** Environment for the worker process. */
  workerEnv: Record<string, string>;
  /** How enqueueing is done, said in the results. */
  describe: Record<string, string>;
  durability: Record<string, unknown>;
  /** Processes of the broker (nats-server, redis-server) whose CPU is worth reporting. */
  brokerPids: number[];
  /** The system's database (Postgres), whose CPU counts toward its cost per job; absent for Redis-only systems. */
  database?: BenchDatabase;
  enqueueOne(p: BenchPayload): Promise<void>;
  enqueueMany(ps: BenchPayload[]): Promise<void>;
  /** What the system itself says is still waiting or in flight, to cross-check the worker's tally. */
  backlog(): Promise<Record<string, number>>;
  /** Where history went: rows or jobs the system kept for the burn-down phase. */
  history(): Promise<Record<string, number>>;
  closeProducer(): Promise<void>;
  teardown(): Promise<void>;
}

/** The worker process's side: consume with the plan's concurrency, call the tally, stop. */
export interface SystemWorker {
  notes: string[];
  stop(): Promise<void>;
}
