// A retry budget (Finagle/Linkerd): retries may add at most `percent`% to the requests of the last
// `windowMs`, plus a small floor, so that when a whole tier fails retries cannot multiply the load.

export class RetryBudget {
  private readonly buckets: Array<{ requests: number; retries: number }>;
  private current = 0;
  private currentStart = Number.NaN;

  constructor(
    private percent: number,
    private min: number,
    private readonly windowMs = 10_000,
    private readonly slots = 10,
  ) {
    this.buckets = Array.from({ length: slots }, () => ({ requests: 0, retries: 0 }));
  }

  configure(percent: number, min: number): void {
    this.percent = percent;
    this.min = min;
  }

  private rotate(now: number): void {
    const slotMs = this.windowMs / this.slots;
    if (Number.isNaN(this.currentStart)) this.currentStart = now;
    const steps = Math.floor((now - this.currentStart) / slotMs);
    if (steps <= 0) return;
    for (let i = 0; i < Math.min(steps, this.slots); i++) {
      this.current = (this.current + 1) % this.slots;
      this.buckets[this.current] = { requests: 0, retries: 0 };
    }
    this.currentStart += steps * slotMs;
  }

  recordRequest(now: number): void {
    this.rotate(now);
    this.buckets[this.current]!.requests++;
  }

  /** Takes one retry from the budget if there is one left. */
  tryRetry(now: number): boolean {
    this.rotate(now);
    let requests = 0;
    let retries = 0;
    for (const b of this.buckets) {
      requests += b.requests;
      retries += b.retries;
    }
    if (retries >= this.min + (requests * this.percent) / 100) return false;
    this.buckets[this.current]!.retries++;
    return true;
  }
}
