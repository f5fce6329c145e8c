// One backend: its target from discovery, its undici connection pool, health state and load.
import { Pool } from './undici-pool.js';
import type { BackendTarget } from '../discovery/types.js';
import { ewmaAt, foldEwma, updateEwma, type Ewma } from '../balancing/ewma.js';
import { healthLabel, initialHealth, isHealthy, next, slowStartFactor, type HealthEvent, type HealthPolicy, type HealthState } from '../health/state-machine.js';

export interface PoolSettings {
  connections: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  idleTimeoutMs: number;
  /**
   * Requests that may wait for a busy pool beyond `connections`; a backend whose connections and
   * queue are full takes no more (undici's own queue has no bound).
   */
  queue: number;
}

export interface BackendSnapshot {
  id: string;
  name: string;
  url: string;
  health: ReturnType<typeof healthLabel>;
  draining: boolean;
  inFlight: number;
  ewmaMs: number;
  requests: number;
  failures: number;
  ejections: number;
  consecutiveFails: number;
  weight: number;
}

export class Backend {
  target: BackendTarget;
  readonly origin: URL;
  readonly pool: Pool;
  health: HealthState;
  /** Outstanding requests and WebSocket tunnels (what strategies compare). */
  inFlight = 0;
  /** Requests on the pool (sent or waiting for a connection) until their response body is over. */
  pooled = 0;
  ewma: Ewma | undefined;
  requests = 0;
  failures = 0;
  /** Drained by an operator through the admin API (discovery draining is in target.draining). */
  adminDrained = false;
  /** A half-open trial request is under way: send no second one. */
  trialInFlight = false;
  /** Most requests on the pool at once: its connections plus the queue (see hasRoom). */
  capacity: number;
  private readonly connections: number;
  private refCache: { id: string; name: string } | undefined;
  /** When the current pick is made (set by BackendSet.eligible): see ewmaMs. */
  private pickTime = 0;
  /** Called when the health label changes (metrics, logs). */
  onHealthChange: ((b: Backend, from: string, to: string) => void) | undefined;

  constructor(
    target: BackendTarget,
    pool: PoolSettings,
    private policy: HealthPolicy,
    private readonly ewmaDecayMs: number,
  ) {
    this.target = target;
    this.origin = new URL(target.url);
    this.health = initialHealth(policy);
    this.connections = pool.connections;
    this.capacity = pool.connections + pool.queue;
    this.pool = new Pool(this.origin.origin, {
      connections: pool.connections,
      pipelining: 1,
      connect: { timeout: pool.connectTimeoutMs },
      headersTimeout: pool.responseTimeoutMs,
      bodyTimeout: pool.idleTimeoutMs,
      keepAliveTimeout: 4000,
      keepAliveTimeoutThreshold: 1000,
    });
  }

  get id(): string {
    return this.target.id;
  }

  get name(): string {
    return this.target.name;
  }

  /** `{ id, name }` for responses and cache entries; one object, not one per request. */
  get ref(): { id: string; name: string } {
    const r = this.refCache;
    if (r !== undefined && r.id === this.target.id && r.name === this.target.name) return r;
    return (this.refCache = { id: this.target.id, name: this.target.name });
  }

  get draining(): boolean {
    return this.target.draining || this.adminDrained;
  }

  setPolicy(policy: HealthPolicy): void {
    this.policy = policy;
  }

  /** A reloaded queue bound applies at once (the pool's connection count only to new backends). */
  setQueue(queue: number): void {
    this.capacity = this.connections + queue;
  }

  /**
   * Another request may be sent or queued on the pool now. A request counts until its response
   * body is over, so long-lived streams hold their place (each holds a pool connection too);
   * WebSocket tunnels do not count (they have their own sockets, not pool connections).
   */
  get hasRoom(): boolean {
    return this.pooled < this.capacity;
  }

  /**
   * A request succeeded (passive health; failures go through BackendSet.failed, which knows
   * whether this is the last healthy backend). The usual case, closed with no failure counted,
   * changes nothing: checked here so it allocates no event and no state.
   */
  requestOk(now: number): void {
    if (this.health.passive === 'closed' && this.health.fails === 0) return;
    this.event({ type: 'request-ok', now });
  }

  event(event: HealthEvent): void {
    const before = healthLabel(this.health);
    this.health = next(this.health, event, this.policy);
    const after = healthLabel(this.health);
    if (before !== after) this.onHealthChange?.(this, before, after);
  }

  healthy(): boolean {
    return isHealthy(this.health);
  }

  /** Balancing weight (slow start ramps it after re-admission). */
  get weight(): number {
    // Without a slow start under way the weight is 1 whatever the time: no clock read (the
    // strategies read this for every pick).
    if (this.health.admittedAt === 0 || this.policy.slowStartMs <= 0) return 1;
    return this.weightAt(Date.now());
  }

  weightAt(now: number): number {
    return slowStartFactor(this.health, now, this.policy);
  }

  /**
   * The EWMA as of the current pick (what a strategy compares): the set tells every backend the
   * pick's time once, where a clock read per look cost two per request (about 400 instructions
   * each, Date.now being a runtime call).
   */
  get ewmaMs(): number {
    if (this.ewma === undefined) return 0;
    return ewmaAt(this.ewma, this.pickTime > 0 ? this.pickTime : Date.now(), this.ewmaDecayMs);
  }

  /** A strategy is about to compare this backend at `now` (BackendSet.eligible). */
  pickingAt(now: number): void {
    this.pickTime = now;
  }

  recordLatency(ms: number, now: number): void {
    if (this.ewma) foldEwma(this.ewma, ms, now, this.ewmaDecayMs);
    else this.ewma = updateEwma(undefined, ms, now, this.ewmaDecayMs);
  }

  /** Takes any request now: checks pass, not ejected, not draining. */
  get usable(): boolean {
    return this.health.up && this.health.passive === 'closed' && !this.draining;
  }

  snapshot(now: number): BackendSnapshot {
    return {
      id: this.id,
      name: this.name,
      url: this.target.url,
      health: healthLabel(this.health),
      draining: this.draining,
      inFlight: this.inFlight,
      ewmaMs: Math.round(ewmaAt(this.ewma, now, this.ewmaDecayMs) * 100) / 100,
      requests: this.requests,
      failures: this.failures,
      ejections: this.health.ejections,
      consecutiveFails: this.health.fails,
      weight: Math.round(this.weightAt(now) * 100) / 100,
    };
  }
}
