import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const urlOf = (name: string): string => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

/**
 * The name of a database migrated like production, made once per set of
 * migrations (their source) and UTC day (the migrations make daily partitions
 * from today) and kept as a template: copying it takes a fraction of the time
 * migrating does, for every test file. Processes running tests at once make
 * it once between them (an advisory lock); nobody may connect to it.
 */
async function migratedTemplate(): Promise<string> {
  const hash = createHash('sha256')
    .update(new Date().toISOString().slice(0, 10))
    .update(MIGRATIONS.map((m) => m.toString()).join('\n'))
    .digest('hex')
    .slice(0, 12);
  const name = `metronome_template_${hash}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    if (!(await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount) {
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${building}`);
      const ds = new DataSource({ type: 'postgres', url: urlOf(building), migrations: MIGRATIONS, migrationsTableName: 'typeorm_migrations' });
      await ds.initialize();
      await ds.runMigrations({ transaction: 'each' });
      await ds.destroy();
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      await admin.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    }
  } finally {
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    await admin.end();
  }
  return name;
}

/** A fresh database per test file, migrated like production (a copy of the migrated template); dropped afterwards. */
export class TestDatabase {
  readonly name = `metronome_test_${randomBytes(5).toString('hex')}`;
  private pool?: pg.Pool;

  get url(): string {
    return urlOf(this.name);
  }

  async create(): Promise<this> {
    const template = await migratedTemplate();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      for (let tries = 1; ; tries++) {
        try {
          await admin.query(`CREATE DATABASE ${this.name} TEMPLATE ${template}`);
          break;
        } catch (e) {
          // 55006: the template is in use for a moment (another copy starting, autovacuum): try again.
          if ((e as { code?: string }).code !== '55006' || tries >= 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await admin.end();
    }
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
