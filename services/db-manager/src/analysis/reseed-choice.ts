// Which fenced instance with errant transactions to re-seed now, if any. Only with a live writable
// primary to copy from, only an instance already fenced (read-only, quarantined), and not again
// within the retry interval after an attempt: a copy that keeps failing must not run every second.
import type { TopologySnapshot } from './snapshot.js';

export const RESEED_RETRY_MS = 60_000;

export function chooseReseed(s: TopologySnapshot, errant: Record<string, string[]>, opts: { enabled: boolean; lastAttemptAt: Record<string, number>; retryMs?: number }): string | null {
  if (!opts.enabled || s.primaryId === null) return null;
  const primary = s.instances.find((i) => i.id === s.primaryId);
  if (!primary?.reachable || primary.readOnly !== false) return null;
  const retry = opts.retryMs ?? RESEED_RETRY_MS;
  const due = s.instances.filter(
    (i) =>
      i.id !== s.primaryId &&
      i.reachable &&
      i.readOnly === true &&
      s.quarantined[i.id] !== undefined &&
      (errant[i.id]?.length ?? 0) > 0 &&
      s.now - (opts.lastAttemptAt[i.id] ?? -Infinity) >= retry,
  );
  return due.sort((a, b) => a.priority - b.priority)[0]?.id ?? null;
}
