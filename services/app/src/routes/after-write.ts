// After an edit: drop exactly the affected pages from the Redis page cache, ask the balancer to
// purge the same tags, and remember the write's GTID so the author's next reads see it.
import { affectedTags } from '../cache/affected-tags.js';
import type { ContentChange } from '../content/repo.js';
import type { AppDeps } from './context.js';

export async function afterWrite(deps: AppDeps, userId: number, change: ContentChange, gtid: string | null): Promise<string[]> {
  const tags = affectedTags(change.before, change.after);
  // First the GTID, so that a page rendered from here on waits for a replica that has the write...
  await deps.sessions.setLastWrite(userId, gtid).catch(() => undefined);
  // ...then drop the copies rendered before it.
  await Promise.all([
    deps.pageCache.invalidate(tags).catch((err: unknown) => deps.logger.warn({ err: String(err), tags }, 'page cache invalidation failed')),
    deps.purger.purge(tags),
  ]);
  return tags;
}
