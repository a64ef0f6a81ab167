import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh database per test file, migrated like production; dropped afterwards. */
export class TestDatabase {
  readonly name = `metronome_test_${randomBytes(5).toString('hex')}`;
  private pool?: pg.Pool;

  get url(): string {
    const u = new URL(ADMIN_URL);
    u.pathname = `/${this.name}`;
    return u.toString();
  }

  async create(): Promise<this> {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.name}`);
    await admin.end();
    const ds = new DataSource({ type: 'postgres', url: this.url, migrations: MIGRATIONS, migrationsTableName: 'typeorm_migrations' });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    return this;
  }

  get db(): pg.Pool {
    if (!this.pool) {
      this.pool = new pg.Pool({ connectionString: this.url, max: 4 });
      // An idle client whose server went away (drop() forces the database closed while it is still closing) is no test failure.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  async query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params)).rows;
  }

  async drop(): Promise<void> {
    await this.pool?.end();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    await admin.end();
  }
}
