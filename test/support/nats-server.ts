import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freePort } from './free-port.js';

function findNatsServer(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
  } catch {
    if (existsSync('/usr/sbin/nats-server')) return '/usr/sbin/nats-server';
    throw new Error('nats-server is not installed: sudo apt-get install -y nats-server');
  }
}

export const NATS_SERVER_BIN = findNatsServer();

export { freePort };

/**
 * A private nats-server with JetStream for one test file: its own port and
 * storage, so tests never share streams or consumers and can stop the server.
 */
export class TestNatsServer {
  private process?: ChildProcess;
  readonly storeDir = mkdtempSync(join(tmpdir(), 'metronome-nats-'));
  port = 0;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(port?: number): Promise<this> {
    this.port = port ?? this.port ?? 0;
    if (!this.port) this.port = await freePort();
    this.process = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    await this.waitUntilUp();
    return this;
  }

  private async waitUntilUp(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const nc = await connect({ servers: this.url, reconnect: false });
        await nc.close();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`nats-server on ${this.url} did not start: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async stop(): Promise<void> {
    const p = this.process;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.process = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
