import { Inject, Injectable } from '@nestjs/common';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { CircuitBreakers, JobEnqueuer, JobEnqueuerModule, JobHandler, MetronomeMetrics, type JobContext } from '../../../libs/common/src/index.js';
import { freePort } from '../../support/nats-server.js';
import { RuntimeHarness } from '../runtime/runtime-support.js';
import { sleep, waitFor } from './durability-support.js';

const EMAIL_JOB = 'rt.email';
const SMTP_PORT = Symbol('SMTP_PORT');
const delivered: string[] = [];

/** A real SMTP server on a fixed port, stopped and started again by the test. */
class Smtp {
  private server?: SMTPServer;
  constructor(readonly port: number) {}
  start(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        let body = '';
        stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
        stream.on('end', () => {
          delivered.push(/Subject: (.*)/.exec(body)?.[1]?.trim() ?? '?');
          callback();
        });
      },
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

@Injectable()
class EmailHandlers {
  private readonly transport;
  constructor(private readonly breakers: CircuitBreakers, @Inject(SMTP_PORT) port: number) {
    this.breakers.register('smtp', { failureThreshold: 2, openMs: 1_000, probeWaitMs: 300 });
    this.transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 1_000, greetingTimeout: 1_000 });
  }

  @JobHandler(EMAIL_JOB, { maxAttempts: 3, backoff: { kind: 'fixed', baseMs: 200, capMs: 200, jitter: 0 } })
  async send(ctx: JobContext<{ subject: string }>) {
    await this.breakers.call('smtp', () => this.transport.sendMail({ from: 'metronome@example.test', to: 'ops@example.test', subject: ctx.payload.subject, text: 'hello' }));
  }
}

describe('circuit breaker for outbound SMTP', () => {
  const h = new RuntimeHarness();
  let smtp: Smtp;
  let enqueuer: JobEnqueuer;
  let breakers: CircuitBreakers;
  let metrics: MetronomeMetrics;

  beforeAll(async () => {
    await h.start();
    smtp = new Smtp(await freePort());
    const app = await h.app({
      names: [EMAIL_JOB],
      providers: [EmailHandlers, { provide: SMTP_PORT, useValue: smtp.port }],
      imports: [JobEnqueuerModule],
    });
    enqueuer = app.get(JobEnqueuer);
    breakers = app.get(CircuitBreakers);
    metrics = app.get(MetronomeMetrics);
  });
  afterAll(async () => {
    await smtp.stop();
    await h.stop();
  });

  const gauge = async () => (await metrics.circuitState.get()).values.find((v) => v.labels.dependency === 'smtp')?.value;

  it('an SMTP server refusing connections opens the circuit; jobs wait, then deliver once it recovers', async () => {
    await smtp.start();
    const first = await enqueuer.enqueue(EMAIL_JOB, { subject: 'before the outage' });
    await waitFor(async () => (await h.run(first.runId))?.state === 'succeeded', { what: 'a delivery while the server is up' });
    expect(await gauge()).toBe(0);

    await smtp.stop(); // connections to the port are now refused
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => enqueuer.enqueue(EMAIL_JOB, { subject: `mail ${i}` })));
    await waitFor(() => breakers.get('smtp').state === 'open', { what: 'the circuit to open' });
    expect(await gauge()).toBe(2);

    // Several open periods and failed half-open probes pass; nothing fails or is dead-lettered, jobs wait.
    await sleep(3_500);
    // Each run has no attempt yet (waiting in JOBS) or failed ones being retried; none has ended.
    const waiting = await Promise.all(runs.map((r) => h.run(r.runId)));
    expect(waiting.filter((r) => r !== undefined && r.state !== 'retrying')).toEqual([]);
    expect(Math.max(0, ...waiting.map((r) => r?.attempts ?? 0))).toBeLessThan(3);
    expect(await h.database.query(`SELECT id FROM dead_letters`)).toEqual([]);
    expect(delivered).toEqual(['before the outage']);

    await smtp.start();
    await waitFor(async () => (await Promise.all(runs.map((r) => h.run(r.runId)))).every((r) => r?.state === 'succeeded'), {
      timeoutMs: 30_000,
      what: 'every waiting mail to be delivered',
    });
    expect(delivered.slice(1).sort()).toEqual(runs.map((_, i) => `mail ${i}`).sort());
    expect(breakers.get('smtp').state).toBe('closed');
    expect(await gauge()).toBe(0);
    const attempts = await Promise.all(runs.map((r) => h.run(r.runId)));
    // Waiting on the open circuit cost no attempts: only failures before it opened (at most threshold - 1 per run) and the delivery.
    expect(Math.max(...attempts.map((r) => r.attempts))).toBeLessThanOrEqual(2);
  });
});
