// Asks the balancer to drop its micro-cached copies of the pages an edit affected
// (POST /api/cache/purge with the cache tags). A failed purge is logged: the copies expire on their own.
// The token is the balancer's purge token only: it cannot drain backends, so a compromised app pod
// can at worst empty the micro-cache.
import type { Logger } from '@dramble/lib';

export interface Purger {
  purge(tags: string[]): Promise<boolean>;
}

export class BalancerPurger implements Purger {
  constructor(
    private readonly baseUrl: string | undefined,
    private readonly purgeToken: string | undefined,
    private readonly logger: Logger,
    private readonly timeoutMs = 2000,
  ) {}

  async purge(tags: string[]): Promise<boolean> {
    if (!this.baseUrl || tags.length === 0) return false;
    const url = new URL('/api/cache/purge', this.baseUrl);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.purgeToken ? { authorization: `Bearer ${this.purgeToken}` } : {}) },
        body: JSON.stringify({ tags }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      // 403: the token is the balancer's drain token, not its purge token (a deployment mix-up).
      if (!res.ok) this.logger.warn({ status: res.status, tags }, res.status === 403 ? 'balancer purge refused: the token is not the balancer\'s purge token' : 'balancer purge refused');
      return res.ok;
    } catch (err) {
      this.logger.warn({ err: String(err), tags }, 'balancer purge failed');
      return false;
    }
  }
}
