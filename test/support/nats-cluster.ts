import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort, NATS_SERVER_BIN } from './nats-server.js';

export interface ClusterNode {
  /** server_name, also what JetStream reports as a stream or consumer leader. */
  name: string;
  port: number;
  clusterPort: number;
  monitorPort: number;
  storeDir: string;
  url: string;
  process?: ChildProcess;
  /** The node's own log (stdout and stderr), for failure messages. */
  log: string[];
}

/**
 * A JetStream cluster of nats-server processes on loopback for one test file:
 * every node has its own client, route and monitoring port, store directory and
 * server_name, and routes to all the others. Nodes can be SIGKILLed and
 * restarted on the same ports and storage.
 */
export class TestNatsCluster {
  readonly nodes: ClusterNode[] = [];
  readonly name = `metronome-test-${Math.random().toString(36).slice(2, 8)}`;
  private readonly root = mkdtempSync(join(tmpdir(), 'metronome-nats-cluster-'));

  constructor(private readonly size = 3) {}

  /** Every node's client URL: what NATS_URLS gets. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  node(name: string): ClusterNode {
    const found = this.nodes.find((n) => n.name === name);
    if (!found) throw new Error(`no node named ${name} in ${this.nodes.map((n) => n.name).join(', ')}`);
    return found;
  }

  async start(): Promise<this> {
    for (let i = 1; i <= this.size; i++) {
      const port = await freePort();
      this.nodes.push({
        name: `n${i}`,
        port,
        clusterPort: await freePort(),
        monitorPort: await freePort(),
        storeDir: join(this.root, `n${i}`),
        url: `nats://127.0.0.1:${port}`,
        log: [],
      });
    }
    for (const n of this.nodes) this.spawn(n);
    await this.waitUntilReady();
    return this;
  }

  private spawn(n: ClusterNode): void {
    const routes = this.nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.clusterPort}`).join(',');
    const args = [
      '-a', '127.0.0.1',
      '-p', String(n.port),
      '-m', String(n.monitorPort),
      '-js',
      '-sd', n.storeDir,
      '--server_name', n.name,
      '--cluster_name', this.name,
      '--cluster', `nats://127.0.0.1:${n.clusterPort}`,
      '--routes', routes,
    ];
    const child = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      n.log.push(d.toString());
      if (n.log.length > 400) n.log.splice(0, n.log.length - 400);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    n.process = child;
  }

  private running(): ClusterNode[] {
    return this.nodes.filter((n) => n.process && n.process.exitCode === null && n.process.signalCode === null);
  }

  /** Every running node routes to every other running node, and JetStream answers API calls (a meta leader exists). */
  async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const live = this.running();
    let last = '';
    for (;;) {
      try {
        for (const n of live) {
          const routez = (await (await fetch(`http://127.0.0.1:${n.monitorPort}/routez`)).json()) as { num_routes: number };
          if (routez.num_routes < live.length - 1) throw new Error(`${n.name} has ${routez.num_routes} routes`);
          // The node's JetStream meta layer only: a restarted node's idle stream and consumer replicas may take long to report current.
          const health = await fetch(`http://127.0.0.1:${n.monitorPort}/healthz?js-server-only=true`);
          if (health.status !== 200) throw new Error(`${n.name} /healthz ${health.status}: ${await health.text()}`);
        }
        const nc = await connect({ servers: live.map((n) => n.url), reconnect: false });
        try {
          await (await jetstreamManager(nc)).getAccountInfo();
        } finally {
          await nc.close();
        }
        return;
      } catch (e) {
        last = String(e);
        if (Date.now() > deadline) {
          throw new Error(`NATS cluster not ready within ${timeoutMs} ms: ${last}\n${live.map((n) => `--- ${n.name}\n${n.log.join('').slice(-2000)}`).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Kills one node (SIGKILL by default: no lame-duck, no flush) and waits for the process to be gone. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.node(name).process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
      // A graceful stop that hangs must not hang the test file.
      if (signal !== 'SIGKILL') setTimeout(() => p.kill('SIGKILL'), 5_000).unref();
    });
  }

  /** Starts a stopped node again on its ports and storage, and waits until the cluster has it back. */
  async restart(name: string): Promise<void> {
    const n = this.node(name);
    await this.kill(name);
    this.spawn(n);
    await this.waitUntilReady();
  }

  async destroy(): Promise<void> {
    for (const n of this.nodes) await this.kill(n.name, 'SIGTERM');
    rmSync(this.root, { recursive: true, force: true });
  }
}
