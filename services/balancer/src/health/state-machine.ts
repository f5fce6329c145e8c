// A backend's health as a pure state machine: active checks move it up/down after `rise`/`fall`
// consecutive results (HAProxy), passive failures on real traffic eject it after `maxFails` in a
// row for a backoff that doubles on every failed half-open trial (Envoy outlier detection), and a
// re-admitted backend ramps up its weight over `slowStartMs`. Passive failures never eject the
// last healthy backend (nginx never marks its only server down): with nothing healthy left the
// site would answer 503 to everyone, which is worse than the failing backend's own answers.

export interface HealthPolicy {
  rise: number;
  fall: number;
  maxFails: number;
  failTimeoutMs: number;
  maxEjectMs: number;
  slowStartMs: number;
  /**
   * Below this percentage of healthy backends the balancer balances over all of them, healthy or
   * not (Envoy's panic threshold); 0 = never. Read by eligibility.ts, not by next().
   */
  panicThresholdPercent: number;
}

export type PassiveState = 'closed' | 'ejected' | 'half-open';

export interface HealthState {
  /** Verdict of active checks (a backend without active checks stays up). */
  up: boolean;
  checkOks: number;
  checkFails: number;
  passive: PassiveState;
  /** Consecutive passive failures. */
  fails: number;
  /** How many times it was ejected, ever. */
  ejections: number;
  ejectedUntil: number;
  /** Current ejection length; doubles on a failed trial, resets after a good one. */
  backoffMs: number;
  /** When it last became usable again (start of slow start); 0 = from the beginning. */
  admittedAt: number;
}

export type HealthEvent =
  | { type: 'request-ok'; now: number }
  /**
   * `lastHealthy`: no other backend is healthy, so this failure is counted but does not eject
   * (it ejects at the next failure once another backend is healthy again).
   */
  | { type: 'request-fail'; now: number; lastHealthy?: boolean }
  | { type: 'check-ok'; now: number }
  | { type: 'check-fail'; now: number }
  /** Time passes: an ejected backend whose backoff ran out becomes half-open. */
  | { type: 'tick'; now: number };

export function initialHealth(policy: HealthPolicy, up = true): HealthState {
  return { up, checkOks: 0, checkFails: 0, passive: 'closed', fails: 0, ejections: 0, ejectedUntil: 0, backoffMs: policy.failTimeoutMs, admittedAt: 0 };
}

export function next(state: HealthState, event: HealthEvent, policy: HealthPolicy): HealthState {
  const now = event.now;
  switch (event.type) {
    case 'check-ok': {
      const checkOks = state.checkOks + 1;
      // With active checks, a passing probe re-admits a backend whose ejection ran out, so no real
      // request has to be the trial.
      if (state.up && state.passive === 'half-open') return { ...state, checkOks, checkFails: 0, passive: 'closed', fails: 0, backoffMs: policy.failTimeoutMs, admittedAt: now };
      if (state.up) return { ...state, checkOks, checkFails: 0 };
      if (checkOks < policy.rise) return { ...state, checkOks, checkFails: 0 };
      // Back up after `rise` passes; an active pass also ends a passive ejection (the backend answers).
      return { ...state, up: true, checkOks, checkFails: 0, passive: 'closed', fails: 0, backoffMs: policy.failTimeoutMs, admittedAt: now };
    }
    case 'check-fail': {
      const checkFails = state.checkFails + 1;
      const up = state.up && checkFails < policy.fall;
      return { ...state, up, checkOks: 0, checkFails };
    }
    case 'request-ok': {
      if (state.passive === 'half-open') return { ...state, passive: 'closed', fails: 0, backoffMs: policy.failTimeoutMs, admittedAt: now };
      return state.fails === 0 ? state : { ...state, fails: 0 };
    }
    case 'request-fail': {
      if (state.passive === 'ejected') return state;
      if (state.passive === 'half-open') {
        // The trial failed: eject again for twice as long.
        const backoffMs = Math.min(state.backoffMs * 2, policy.maxEjectMs);
        return { ...state, passive: 'ejected', fails: state.fails + 1, ejections: state.ejections + 1, backoffMs, ejectedUntil: now + backoffMs };
      }
      const fails = state.fails + 1;
      if (fails < policy.maxFails || (event.lastHealthy === true && isHealthy(state))) return { ...state, fails };
      return { ...state, passive: 'ejected', fails, ejections: state.ejections + 1, ejectedUntil: now + state.backoffMs };
    }
    case 'tick':
      if (state.passive === 'ejected' && now >= state.ejectedUntil) return { ...state, passive: 'half-open' };
      return state;
  }
}

/** Fully usable: takes any request. */
export function isHealthy(state: HealthState): boolean {
  return state.up && state.passive === 'closed';
}

/** Weight multiplier during slow start: 0.1 right after re-admission, 1 after `slowStartMs`. */
export function slowStartFactor(state: HealthState, now: number, policy: HealthPolicy): number {
  if (state.admittedAt === 0 || policy.slowStartMs <= 0) return 1;
  const t = (now - state.admittedAt) / policy.slowStartMs;
  return t >= 1 ? 1 : 0.1 + 0.9 * Math.max(t, 0);
}

/** Short word for the admin API and metrics. */
export function healthLabel(state: HealthState): 'healthy' | 'down' | 'ejected' | 'half-open' {
  if (!state.up) return 'down';
  if (state.passive === 'closed') return 'healthy';
  return state.passive;
}
