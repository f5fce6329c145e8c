// Which instances the manager watches after a membership change (Kubernetes pods added, removed or
// given a new address): pure, so the rules are easy to read and test.
import type { Target } from './probe/connection.js';

export interface MembershipPlan {
  /** The new instance list, in the order given (that order is the promotion priority). */
  next: Target[];
  added: string[];
  removed: string[];
  /** Same id, new host or port (a rescheduled pod with a new IP). */
  moved: string[];
  /** The primary was missing from the wanted list and is kept anyway. */
  keptPrimary: boolean;
}

/**
 * The current primary is never dropped: a primary pod that vanished from the list (deleted, being
 * rescheduled) is a failure for the analysis to judge from its probes, with failover if it stays dead,
 * not a reason to forget which server holds the data. It leaves the list once it is no longer primary.
 */
export function planMembership(current: readonly Target[], wanted: readonly Target[], primaryId: string | null): MembershipPlan {
  const next = [...wanted];
  const primary = primaryId === null ? undefined : current.find((t) => t.id === primaryId);
  const keptPrimary = primary !== undefined && !next.some((t) => t.id === primary.id);
  if (keptPrimary) next.push(primary);
  const before = new Map(current.map((t) => [t.id, t]));
  const after = new Map(next.map((t) => [t.id, t]));
  return {
    next,
    added: next.filter((t) => !before.has(t.id)).map((t) => t.id),
    removed: current.filter((t) => !after.has(t.id)).map((t) => t.id),
    moved: next.filter((t) => {
      const b = before.get(t.id);
      return b !== undefined && (b.host !== t.host || b.port !== t.port);
    }).map((t) => t.id),
    keptPrimary,
  };
}

export function membershipChanged(p: MembershipPlan): boolean {
  return p.added.length + p.removed.length + p.moved.length > 0;
}
