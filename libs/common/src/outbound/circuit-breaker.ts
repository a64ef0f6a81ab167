import { Inject, Injectable, Optional } from '@nestjs/common';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { PermanentError, SnoozeError } from '../messaging/errors.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';

export type CircuitState = 'closed' | 'open' | 'half-open';
const GAUGE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before a half-open probe is let through (default 30 s). */
  openMs?: number;
  /** How long callers arriving while a probe is in flight are snoozed (default 1 s). */
  probeWaitMs?: number;
  /** Whether an error counts against the dependency (default: everything except PermanentError and SnoozeError). */
  isFailure?: (error: unknown) => boolean;
}

/**
 * The dependency is unavailable: the job is snoozed (SnoozeError), so the run
 * goes back to the queue without counting an attempt, never to the DLQ.
 */
export class CircuitOpenError extends SnoozeError {
  constructor(readonly dependency: string, delayMs: number, readonly cause?: unknown) {
    super(delayMs);
    this.name = 'CircuitOpenError';
    this.message = `circuit for "${dependency}" is open: snoozed for ${delayMs} ms`;
  }
}

const defaultIsFailure = (e: unknown): boolean => !(e instanceof PermanentError) && !(e instanceof SnoozeError);

/**
 * One outbound dependency's breaker (Hystrix/opossum style, per process):
 * closed → `failureThreshold` consecutive failures → open (calls are refused
 * with CircuitOpenError, a snooze) → after `openMs` one half-open probe goes
 * through → success closes it, failure opens it again for another `openMs`.
 * Failures below the threshold are thrown as they are (the job's attempt and
 * backoff apply); the failure that opens the circuit and a failed probe are
 * thrown as CircuitOpenError (cause: the original), so waiting for a dependency
 * never uses up a job's attempts.
 */
export class CircuitBreaker {
  private state_: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly probeWaitMs: number;
  private readonly isFailure: (e: unknown) => boolean;

  constructor(
    readonly dependency: string,
    options: CircuitBreakerOptions = {},
    private readonly onChange: (dependency: string, state: CircuitState, previous: CircuitState) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.openMs = options.openMs ?? 30_000;
    this.probeWaitMs = options.probeWaitMs ?? 1_000;
    this.isFailure = options.isFailure ?? defaultIsFailure;
  }

  get state(): CircuitState {
    return this.state_;
  }

  /** Runs `fn` through the breaker; throws CircuitOpenError (a SnoozeError) instead of calling a dependency known to be down. */
  async call<T>(fn: () => Promise<T> | T): Promise<T> {
    const probe = this.admit();
    try {
      const result = await fn();
      this.succeeded();
      return result;
    } catch (e) {
      if (!this.isFailure(e)) {
        if (probe) this.probing = false;
        throw e;
      }
      // The failure that opens the circuit, and a failed probe, snooze their job too: the dependency is down, not the job.
      if (this.failed(probe)) throw new CircuitOpenError(this.dependency, this.openMs + jitter(this.probeWaitMs), e);
      throw e;
    }
  }

  /** Whether a call may go through now (true: it is the half-open probe); throws CircuitOpenError otherwise. */
  private admit(): boolean {
    if (this.state_ === 'closed') return false;
    const waited = this.now() - this.openedAt;
    if (this.state_ === 'open' && waited < this.openMs) throw new CircuitOpenError(this.dependency, this.openMs - waited + jitter(this.probeWaitMs));
    if (this.probing) throw new CircuitOpenError(this.dependency, this.probeWaitMs + jitter(this.probeWaitMs));
    this.set('half-open');
    this.probing = true;
    return true;
  }

  private succeeded(): void {
    this.failures = 0;
    this.probing = false;
    if (this.state_ !== 'closed') this.set('closed');
  }

  /** Counts a failure; true when it opened the circuit. */
  private failed(probe: boolean): boolean {
    this.failures++;
    if (probe) this.probing = false;
    if (probe || this.state_ === 'half-open' || (this.state_ === 'closed' && this.failures >= this.failureThreshold)) {
      this.openedAt = this.now();
      this.set('open');
      return true;
    }
    return false;
  }

  private set(state: CircuitState): void {
    const previous = this.state_;
    if (previous === state) return;
    this.state_ = state;
    this.onChange(this.dependency, state, previous);
  }
}

function jitter(ms: number): number {
  return Math.round(Math.random() * ms * 0.5);
}

/**
 * The process's breakers by dependency name ('smtp', 'webhook:<host>', ...),
 * with `metronome_circuit_state{dependency}` (0 closed, 1 half-open, 2 open).
 */
@Injectable()
export class CircuitBreakers {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly defaults = new Map<string, CircuitBreakerOptions>();

  constructor(
    @Optional() private readonly metrics?: MetronomeMetrics,
    @Optional() @Inject(ROOT_LOGGER) private readonly log?: Logger,
  ) {}

  /** Sets a dependency's options (before its first call; a registered breaker is replaced). */
  register(dependency: string, options: CircuitBreakerOptions = {}): CircuitBreaker {
    this.defaults.set(dependency, options);
    const breaker = new CircuitBreaker(dependency, options, (d, s, p) => this.changed(d, s, p));
    this.breakers.set(dependency, breaker);
    this.metrics?.circuitState.set({ dependency }, GAUGE.closed);
    return breaker;
  }

  get(dependency: string): CircuitBreaker {
    return this.breakers.get(dependency) ?? this.register(dependency, this.defaults.get(dependency));
  }

  /** `breakers.call('smtp', () => transport.sendMail(mail))` */
  call<T>(dependency: string, fn: () => Promise<T> | T): Promise<T> {
    return this.get(dependency).call(fn);
  }

  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([d, b]) => [d, b.state]));
  }

  private changed(dependency: string, state: CircuitState, previous: CircuitState): void {
    this.metrics?.circuitState.set({ dependency }, GAUGE[state]);
    const line = { dependency, state, previous };
    if (state === 'open') this.log?.warn(line, 'circuit opened: calls to the dependency are snoozed');
    else this.log?.info(line, `circuit ${state}`);
  }
}
