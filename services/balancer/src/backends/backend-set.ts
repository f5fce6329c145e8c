// The live set of backends: applies discovery updates (new pools for new targets, graceful close
// for removed ones) and answers "which backends may take this request".
import type { Logger } from '@dramble/lib';
import type { BackendTarget } from '../discovery/types.js';
import { isLastHealthy, selectEligible, type Eligible as EligibleOf } from '../health/eligibility.js';
import type { HealthPolicy } from '../health/state-machine.js';
import { Backend, type PoolSettings } from './backend.js';

export type Eligible = EligibleOf<Backend>;

export class BackendSet {
  private readonly byId = new Map<string, Backend>();
  private list: Backend[] = [];
  onHealthChange: ((b: Backend, from: string, to: string) => void) | undefined;
  onChange: ((backends: Backend[]) => void) | undefined;
  /** Below the panic threshold: the last pick balanced over every backend in service. */
  panic = false;

  constructor(
    private poolSettings: PoolSettings,
    private policy: HealthPolicy,
    private ewmaDecayMs: number,
    private readonly logger: Logger,
  ) {}

  all(): Backend[] {
    return this.list;
  }

  get(id: string): Backend | undefined {
    return this.byId.get(id);
  }

  /** New settings apply to health at once and to pools of backends added from now on. */
  reconfigure(poolSettings: PoolSettings, policy: HealthPolicy, ewmaDecayMs: number): void {
    this.poolSettings = poolSettings;
    this.policy = policy;
    this.ewmaDecayMs = ewmaDecayMs;
    for (const b of this.list) {
      b.setPolicy(policy);
      b.setQueue(poolSettings.queue);
    }
  }

  update(targets: BackendTarget[]): void {
    const seen = new Set<string>();
    for (const t of targets) {
      seen.add(t.id);
      const existing = this.byId.get(t.id);
      if (existing) {
        if (existing.target.draining !== t.draining) this.logger.info({ backend: t.id, draining: t.draining }, 'backend draining changed');
        existing.target = t;
        continue;
      }
      const b = new Backend(t, this.poolSettings, this.policy, this.ewmaDecayMs);
      b.onHealthChange = (x, from, to) => this.onHealthChange?.(x, from, to);
      this.byId.set(t.id, b);
      this.logger.info({ backend: t.id, backendName: t.name, origin: t.url }, 'backend added');
    }
    for (const [id, b] of this.byId) {
      if (seen.has(id)) continue;
      this.byId.delete(id);
      this.logger.info({ backend: id, inFlight: b.inFlight }, 'backend removed');
      // close() lets in-flight requests finish and refuses new ones.
      b.pool.close().catch(() => undefined);
    }
    this.list = [...this.byId.values()];
    this.onChange?.(this.list);
  }

  /**
   * Backends that may take a request (health/eligibility.ts): healthy, not draining, not already
   * tried; when none is, half-open backends whose ejection ran out (one trial each); below the
   * panic threshold, every backend in service. `allowTrialBesideHealthy` lets a retry-safe
   * request be the trial even while healthy backends exist (passive re-admission without active
   * checks); a failed trial is then retried elsewhere, invisible to the client.
   */
  eligible(exclude: ReadonlySet<string> | undefined, now: number, allowTrialBesideHealthy: boolean): Eligible {
    // The usual case, without allocating: every backend usable and none excluded yet.
    if (exclude === undefined || exclude.size === 0) {
      let all = true;
      for (const b of this.list) {
        b.pickingAt(now);
        if (!b.usable) {
          all = false;
          break;
        }
      }
      if (all) {
        if (this.panic) this.setPanic(false);
        return this.allEligible();
      }
    }
    for (const b of this.list) {
      b.pickingAt(now);
      if (b.health.passive === 'ejected') b.event({ type: 'tick', now });
    }
    const eligible = selectEligible(this.list, exclude, allowTrialBesideHealthy, this.policy.panicThresholdPercent);
    if (eligible.panic !== this.panic) this.setPanic(eligible.panic);
    return eligible;
  }

  /**
   * A passive failure of `b` (connect error, reset, timeout, a --fail-status answer). It never
   * ejects the last healthy backend. Returns true when it ejected `b`.
   */
  failed(b: Backend, now: number): boolean {
    const before = b.health.ejections;
    b.failures++;
    b.event({ type: 'request-fail', now, lastHealthy: isLastHealthy(this.list, b) });
    return b.health.ejections > before;
  }

  private setPanic(panic: boolean): void {
    this.panic = panic;
    const healthy = this.list.filter((b) => !b.draining && b.healthy()).length;
    const total = this.list.filter((b) => !b.draining).length;
    if (panic) this.logger.warn({ healthy, total, panicThresholdPercent: this.policy.panicThresholdPercent }, 'panic: too few healthy backends, balancing over all of them');
    else this.logger.info({ healthy, total }, 'panic over: balancing over healthy backends again');
  }

  private allCache: Eligible | undefined;

  private allEligible(): Eligible {
    if (this.allCache?.backends !== this.list) this.allCache = { backends: this.list, trial: false, panic: false };
    return this.allCache;
  }

  async close(): Promise<void> {
    const pools = this.list.map((b) => b.pool.destroy().catch(() => undefined));
    this.byId.clear();
    this.list = [];
    await Promise.all(pools);
  }
}
