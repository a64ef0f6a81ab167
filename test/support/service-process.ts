import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');

export function builtEntry(relative: string): string {
  const path = join(ROOT, 'dist', relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" first (npm test does)`);
  return path;
}

/** A service started as its own OS process from the build, so tests can SIGKILL it. */
export class ServiceProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  exited: Promise<number | null>;

  constructor(private readonly entry: string, private readonly env: Record<string, string>) {
    this.exited = Promise.resolve(null);
  }

  start(): this {
    const child = spawn(process.execPath, [builtEntry(this.entry)], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      resolve(code);
    }));
    this.child = child;
    return this;
  }

  get text(): string {
    return this.output.join('');
  }

  async waitForLog(fragment: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text.includes(fragment)) {
      if (this.exitCode !== null || this.exitSignal !== null) throw new Error(`process exited (${this.exitCode}) before logging "${fragment}":\n${this.text}`);
      if (Date.now() > deadline) throw new Error(`no "${fragment}" within ${timeoutMs} ms:\n${this.text.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    if (!this.child || this.exitCode !== null || this.exitSignal !== null) return;
    this.kill('SIGTERM');
    await this.exited;
  }
}
