// Which backends may take a request, as a pure function of their health: the healthy ones, or
// half-open trial candidates when none is healthy, or, below the panic threshold, every backend
// in service (Envoy's panic mode: when most backends look unhealthy the health signal is more
// likely wrong than the backends, e.g. all of them answering 503 during a database failover, and
// spreading over all of them beats piling everything on the few left or answering 503 ourselves).
import { isHealthy, type HealthState } from './state-machine.js';

/** What eligibility needs to know about a backend (Backend has these fields). */
export interface EligibilityView {
  readonly id: string;
  readonly health: HealthState;
  /** Being removed (discovery or an operator): takes no new request, panic or not. */
  readonly draining: boolean;
  /** A half-open trial request is under way: send no second one. */
  readonly trialInFlight: boolean;
}

export interface Eligible<C> {
  backends: C[];
  /** True when these are half-open trial candidates rather than healthy backends. */
  trial: boolean;
  /** True when fewer than the threshold's share of backends is healthy: `backends` is all in service. */
  panic: boolean;
}

/** Fewer than `thresholdPercent` of `total` backends healthy (0 disables; no backend, no panic). */
export function inPanic(healthy: number, total: number, thresholdPercent: number): boolean {
  return total > 0 && thresholdPercent > 0 && healthy * 100 < thresholdPercent * total;
}

/**
 * Candidates for one attempt. `exclude` holds backends already tried by this request (they count
 * for the panic share but are not offered again). `allowTrialBesideHealthy` lets a retry-safe
 * request be a half-open trial even while healthy backends exist (passive re-admission without
 * active checks).
 */
export function selectEligible<C extends EligibilityView>(
  list: readonly C[],
  exclude: ReadonlySet<string> | undefined,
  allowTrialBesideHealthy: boolean,
  panicThresholdPercent: number,
): Eligible<C> {
  const healthy: C[] = [];
  const trial: C[] = [];
  const inService: C[] = [];
  let total = 0;
  let healthyTotal = 0;
  for (const b of list) {
    if (b.draining) continue;
    total++;
    const ok = isHealthy(b.health);
    if (ok) healthyTotal++;
    if (exclude?.has(b.id)) continue;
    inService.push(b);
    if (ok) healthy.push(b);
    else if (b.health.up && b.health.passive === 'half-open' && !b.trialInFlight) trial.push(b);
  }
  if (inPanic(healthyTotal, total, panicThresholdPercent)) return { backends: inService, trial: false, panic: true };
  if (trial.length > 0 && (healthy.length === 0 || allowTrialBesideHealthy)) return { backends: trial, trial: true, panic: false };
  return { backends: healthy, trial: false, panic: false };
}

/** No backend other than `self` is healthy and in service: a passive failure must not eject `self`. */
export function isLastHealthy(list: readonly EligibilityView[], self: EligibilityView): boolean {
  for (const b of list) if (b !== self && !b.draining && isHealthy(b.health)) return false;
  return true;
}
