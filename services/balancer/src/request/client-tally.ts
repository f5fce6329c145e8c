// Live per-client counts the admission caps read: open connections per peer, short requests in
// flight per client, long-lived responses (SSE, tunnels) per client and in total. An entry goes
// when its count reaches 0, so the maps hold only clients with something open.

export class PerKeyCount {
  private readonly counts = new Map<string, number>();

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  inc(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  dec(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }

  get size(): number {
    return this.counts.size;
  }
}

export class ClientTally {
  /** Open TCP connections by peer address. */
  readonly connections = new PerKeyCount();
  /** Requests being answered by client, long-lived ones excepted. */
  readonly inFlight = new PerKeyCount();
  /** Event streams and tunnels by client. */
  readonly longLived = new PerKeyCount();
  longLivedTotal = 0;
}
