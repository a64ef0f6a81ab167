import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

interface Ambient {
  dataSource: DataSource;
  runner: QueryRunner;
  /** False once the transaction committed or rolled back: late work (a promise left running) uses the pool again. */
  open: boolean;
  /** Run once the transaction committed (afterCommit); dropped on rollback. */
  committed: (() => void)[];
}

const AMBIENT = new AsyncLocalStorage<Ambient>();
const JOINED = Symbol('metronome.ambient-transactions');

type Joinable = DataSource & { [JOINED]?: { transaction: EntityManager['transaction'] } };

function current(dataSource: DataSource): Ambient | undefined {
  const a = AMBIENT.getStore();
  return a && a.open && a.dataSource === dataSource && !a.runner.isReleased ? a : undefined;
}

/**
 * Makes every repository of this DataSource join the audited transaction its caller runs in.
 * Repositories write through `dataSource.query(...)`, `dataSource.manager` and `dataSource.transaction(...)`;
 * inside `inAmbientTransaction(...)` those go to that transaction's connection (a nested
 * `transaction(...)` becomes a savepoint), so a change and its audit record commit or roll back together
 * without threading an EntityManager through every service. Outside one, nothing changes. Idempotent.
 */
export function joinAmbientTransactions(dataSource: DataSource): void {
  const ds = dataSource as Joinable;
  if (ds[JOINED]) return;
  const query = ds.query.bind(ds) as DataSource['query'];
  const manager = ds.manager;
  const transaction = manager.transaction.bind(manager) as EntityManager['transaction'];
  ds[JOINED] = { transaction };
  ds.query = ((sql: string, parameters?: unknown[], runner?: QueryRunner) =>
    query(sql, parameters, runner ?? current(ds)?.runner)) as DataSource['query'];
  manager.transaction = ((a: unknown, b?: unknown) => {
    const ambient = current(ds);
    const target = ambient ? ambient.runner.manager : null;
    return target ? (target.transaction as (x: unknown, y?: unknown) => Promise<unknown>)(a, b) : (transaction as (x: unknown, y?: unknown) => Promise<unknown>)(a, b);
  }) as EntityManager['transaction'];
}

/**
 * Runs `work` in one transaction of `dataSource` that every repository call inside it joins
 * (joinAmbientTransactions); inside another one it becomes a savepoint of it.
 */
export async function inAmbientTransaction<T>(dataSource: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  joinAmbientTransactions(dataSource);
  const outer = current(dataSource);
  if (outer) return outer.runner.manager.transaction(work);
  const { transaction } = (dataSource as Joinable)[JOINED]!;
  const committed: (() => void)[] = [];
  const result = await transaction(async (tx: EntityManager) => {
    const ambient: Ambient = { dataSource, runner: tx.queryRunner!, open: true, committed };
    try {
      return await AMBIENT.run(ambient, () => work(tx));
    } finally {
      ambient.open = false;
    }
  });
  for (const fn of committed) fn();
  return result;
}

/**
 * Runs `fn` once the ambient transaction this code runs in has committed (at once outside one): a wake-up
 * of a loop that reads what the transaction writes must not come before the rows are visible.
 */
export function afterCommit(fn: () => void): void {
  const a = AMBIENT.getStore();
  if (a && a.open) a.committed.push(fn);
  else fn();
}

/** True while this code runs inside an audited (ambient) transaction. */
export function inAmbient(): boolean {
  return AMBIENT.getStore()?.open === true;
}

/**
 * Runs `fn` (and whatever timers and promises it starts) outside any ambient transaction: batchers that
 * group writes of many callers flush on their own connection, never inside one caller's transaction.
 */
export function outsideAmbient<T>(fn: () => T): T {
  return AMBIENT.exit(fn);
}

/**
 * Runs a best-effort step whose database errors its caller catches and survives: inside an audited
 * transaction it runs in a savepoint, so a failed statement rolls back the step alone instead of
 * aborting the whole transaction; outside one it just runs.
 */
export function savepoint<T>(fn: () => Promise<T>): Promise<T> {
  const a = AMBIENT.getStore();
  if (!a || !a.open || a.runner.isReleased) return fn();
  return a.runner.manager.transaction(() => fn());
}
