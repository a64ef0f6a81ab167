import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { afterCommit, inAmbientTransaction, joinAmbientTransactions, savepoint } from '../../../libs/common/src/audit/index.js';
import { Batcher } from '../../../libs/common/src/util/batcher.js';
import { TestDatabase } from '../../support/database.js';

/**
 * How repositories join an audited transaction (libs/common/src/audit/ambient-transaction.ts), on a real
 * Postgres: a repository written as `dataSource.query(...)` / `dataSource.transaction(...)` commits or rolls
 * back with the audited work around it; anything else (a batcher of many callers, work left running after
 * the transaction) stays on its own connection.
 */
const database = new TestDatabase();
let ds: DataSource;

/** A repository as the services write them: raw SQL through the injected DataSource. */
const repo = {
  add: (name: string) => ds.query('INSERT INTO ambient_probe (name) VALUES ($1)', [name]),
  addInOwnTransaction: (name: string) => ds.transaction(async (tx) => tx.query('INSERT INTO ambient_probe (name) VALUES ($1)', [name])),
  addWithManager: (name: string) => ds.manager.query('INSERT INTO ambient_probe (name) VALUES ($1)', [name]),
};
const names = async () => (await database.query<{ name: string }>('SELECT name FROM ambient_probe ORDER BY id')).map((r) => r.name);

beforeAll(async () => {
  await database.create();
  await database.query('CREATE TABLE ambient_probe (id serial PRIMARY KEY, name text NOT NULL UNIQUE)');
  ds = new DataSource({ type: 'postgres', url: database.url });
  await ds.initialize();
  joinAmbientTransactions(ds);
});

afterAll(async () => {
  await ds?.destroy();
  await database.drop();
});

describe('ambient (audited) transactions', () => {
  it('repositories inside join it: everything commits together, or nothing does', async () => {
    await database.query('TRUNCATE ambient_probe');
    await expect(inAmbientTransaction(ds, async () => {
      await repo.add('a');
      await repo.addInOwnTransaction('b');
      await repo.addWithManager('c');
      throw new Error('the audit entry could not be written');
    })).rejects.toThrow('could not be written');
    expect(await names()).toEqual([]);

    await inAmbientTransaction(ds, async () => {
      await repo.add('a');
      await repo.addInOwnTransaction('b');
      await repo.addWithManager('c');
    });
    expect(await names()).toEqual(['a', 'b', 'c']);
  });

  it('a repository\'s own transaction inside becomes a savepoint: its failure, when caught, leaves the rest usable', async () => {
    await database.query('TRUNCATE ambient_probe');
    await inAmbientTransaction(ds, async () => {
      await repo.add('kept');
      await expect(repo.addInOwnTransaction('kept')).rejects.toThrow(/duplicate key/);
      await repo.add('after');
    });
    expect(await names()).toEqual(['kept', 'after']);
  });

  it('a best-effort step in a savepoint fails alone; without one, a caught database error aborts the whole transaction', async () => {
    await database.query('TRUNCATE ambient_probe');
    await inAmbientTransaction(ds, async () => {
      await repo.add('one');
      await savepoint(() => repo.add('one')).catch(() => undefined);
      await repo.add('two');
    });
    expect(await names()).toEqual(['one', 'two']);
    await expect(inAmbientTransaction(ds, async () => {
      await repo.add('three');
      await repo.add('one').catch(() => undefined);
      await repo.add('four');
    })).rejects.toThrow(/current transaction is aborted/);
    expect(await names()).toEqual(['one', 'two']);
  });

  it('afterCommit runs once the transaction committed, never after a rollback', async () => {
    const seen: string[] = [];
    await inAmbientTransaction(ds, async () => {
      afterCommit(() => seen.push('committed'));
      seen.push('inside');
    });
    await inAmbientTransaction(ds, async () => {
      afterCommit(() => seen.push('rolled back'));
      throw new Error('no');
    }).catch(() => undefined);
    afterCommit(() => seen.push('outside: at once'));
    expect(seen).toEqual(['inside', 'committed', 'outside: at once']);
  });

  it('a batcher of many callers flushes on its own connection, and work left running afterwards uses the pool', async () => {
    await database.query('TRUNCATE ambient_probe');
    const batcher = new Batcher<string>(async (items) => {
      for (const n of items) await repo.add(n);
    }, { maxItems: 10, maxDelayMs: 5 });
    let late: Promise<unknown> = Promise.resolve();
    await inAmbientTransaction(ds, async () => {
      await batcher.add('batched');
      late = new Promise((r) => setTimeout(r, 50)).then(() => repo.add('late'));
      throw new Error('the caller\'s change fails');
    }).catch(() => undefined);
    await late;
    expect(await names()).toEqual(['batched', 'late']);
  });
});
