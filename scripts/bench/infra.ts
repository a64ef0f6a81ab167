/**
 * What the bench starts and stops: a private nats-server per run, fresh
 * Postgres databases, a Redis database of its own; plus reading each system's
 * durability settings so the results say what a "stored" job meant.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { freePort } from '../../test/support/free-port.js';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

export const PG_SERVER_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_HOST = process.env.BENCH_REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379);
/** The bench owns this Redis database and flushes it before and after. */
export const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 13);

/** Runs `create` with `env` set (a Nest app's config module reads the environment while it is created), then restores it. */
export async function withEnv<T>(env: Record<string, string>, create: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await create();
  } finally {
    process.env = saved;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function which(bin: string, fallbacks: string[]): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH
  }
  return fallbacks.find((f) => existsSync(f));
}

export { freePort };

/** The nats-server binary: NATS_SERVER_BIN, else the one on PATH or where Debian's package puts it; throws saying what to install. */
export function natsServerBin(): string {
  const bin = process.env.NATS_SERVER_BIN ?? which('nats-server', ['/usr/sbin/nats-server', '/usr/local/bin/nats-server']);
  if (!bin) throw new Error('nats-server is not installed: sudo apt-get install -y nats-server');
  return bin;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (1-based) of the whole line, 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A nats-server with JetStream file storage in a temporary directory, on a free port. */
export class BenchNatsServer {
  private process?: ChildProcess;
  readonly storeDir = mkdtempSync(join(tmpdir(), 'metronome-bench-nats-'));
  port = 0;
  readonly bin: string;

  constructor() {
    this.bin = natsServerBin();
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  version(): string {
    return execFileSync(this.bin, ['--version'], { encoding: 'utf8' }).trim();
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.process = spawn(this.bin, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const nc = await connect({ servers: this.url, reconnect: false });
        await nc.close();
        return this;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`nats-server on ${this.url} did not start: ${String(e)}`);
        await sleep(50);
      }
    }
  }

  async destroy(): Promise<void> {
    const p = this.process;
    if (p && p.exitCode === null) {
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    }
    this.process = undefined;
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

function databaseUrl(name: string): string {
  const u = new URL(PG_SERVER_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: databaseUrl('postgres') });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database (optionally migrated like production); dropped by `drop`. */
export class BenchDatabase {
  constructor(readonly name: string) {}

  get url(): string {
    return databaseUrl(this.name);
  }

  async create(options: { migrate: boolean }): Promise<this> {
    await admin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${this.name}`);
    });
    if (options.migrate) {
      const ds = new DataSource({ type: 'postgres', url: this.url, migrations: MIGRATIONS, migrationsTableName: 'typeorm_migrations' });
      await ds.initialize();
      await ds.runMigrations({ transaction: 'each' });
      await ds.destroy();
    }
    return this;
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: this.url });
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  }

  async drop(): Promise<void> {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }
}

export async function postgresDurability(): Promise<Record<string, string>> {
  return admin(async (c) => {
    const out: Record<string, string> = {};
    for (const k of ['server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'full_page_writes', 'shared_buffers']) {
      out[k] = (await c.query(`SHOW ${k}`)).rows[0][k];
    }
    return out;
  });
}

export function redisOptions() {
  return { host: REDIS_HOST, port: REDIS_PORT, db: REDIS_DB, maxRetriesPerRequest: null };
}

/** Starts a throwaway redis-server on 127.0.0.1:6379 when nothing answers there (as DEVELOPING would). */
export async function ensureRedis(): Promise<{ startedByBench: boolean }> {
  const probe = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    await probe.ping();
    return { startedByBench: false };
  } catch {
    const bin = which('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
    if (!bin) throw new Error('redis-server is not installed and nothing answers on 127.0.0.1:6379: sudo apt-get install -y redis-server');
    execFileSync(bin, ['--daemonize', 'yes', '--bind', REDIS_HOST, '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no']);
    for (let i = 0; i < 100; i++) {
      const r = new Redis({ ...redisOptions(), lazyConnect: true, retryStrategy: () => null });
      try {
        await r.connect();
        await r.ping();
        return { startedByBench: true };
      } catch {
        await sleep(50);
      } finally {
        r.disconnect();
      }
    }
    throw new Error('redis-server did not start');
  } finally {
    probe.disconnect();
  }
}

export async function redisInfo(): Promise<{ durability: Record<string, string>; pid: number | undefined }> {
  const r = new Redis(redisOptions());
  try {
    const durability: Record<string, string> = {};
    for (const k of ['appendonly', 'appendfsync', 'save']) {
      const v = (await r.config('GET', k)) as string[];
      durability[k] = v[1] ?? '';
    }
    const info = await r.info('server');
    durability.redis_version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return { durability, pid: Number.isFinite(pid) ? pid : undefined };
  } finally {
    r.disconnect();
  }
}

export async function flushRedisDb(): Promise<void> {
  const r = new Redis(redisOptions());
  try {
    await r.flushdb();
  } finally {
    r.disconnect();
  }
}

/**
 * CPU seconds Postgres spends for one database: its backends (connections to
 * it) and the server's shared background processes that do its WAL and
 * checkpoint work, sampled by pid from /proc. Backends that come and go
 * between two samples are counted from the first sample that sees them.
 */
export class DatabaseCpu {
  private readonly base = new Map<number, number>();
  /** The latest reading of every backend seen: one that exits keeps what it had used by then. */
  private readonly last = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly db: BenchDatabase) {}

  private async pids(): Promise<number[]> {
    const rows = await this.db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE (datname = current_database() AND pid <> pg_backend_pid())
           OR backend_type IN ('checkpointer', 'background writer', 'walwriter', 'autovacuum launcher')`,
    );
    return rows.map((r) => r.pid);
  }

  private async sample(): Promise<void> {
    for (const pid of new Set([...this.last.keys(), ...(await this.pids())])) {
      const now = processCpuSeconds(pid);
      if (now !== null) this.last.set(pid, now);
    }
  }

  /**
   * Reads every backend now and then every 500 ms: a worker's backends exit
   * with its pool, and their CPU would be lost if read only at the end.
   */
  async start(): Promise<void> {
    for (const pid of await this.pids()) this.base.set(pid, processCpuSeconds(pid) ?? 0);
    this.timer = setInterval(() => void this.sample().catch(() => undefined), 500);
  }

  /** Seconds used since start() by every backend seen since (backends born later count from 0); sampling goes on. */
  async reading(): Promise<number> {
    await this.sample();
    let total = 0;
    for (const [pid, now] of this.last) total += now - (this.base.get(pid) ?? 0);
    return total;
  }

  /** The last reading(): sampling stops. */
  async used(): Promise<number> {
    clearInterval(this.timer);
    return this.reading();
  }
}
