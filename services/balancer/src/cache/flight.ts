// One in-flight backend fetch per cache key (nginx's proxy_cache_lock): concurrent misses wait
// for the first one instead of stampeding the backends.

/** stored: the entry is in the cache; pass: the answer was not storable; error: backend failed. */
export type FlightOutcome = 'stored' | 'pass' | 'error' | 'timeout';

export interface Landed<T> {
  outcome: FlightOutcome;
  /** What the flight stored, for 'stored'. */
  value?: T | undefined;
}

export interface Flight<T> {
  settle(outcome: Exclude<FlightOutcome, 'timeout'>, value?: T): void;
  wait(timeoutMs: number): Promise<Landed<T>>;
}

export class Flights<T> {
  private readonly flights = new Map<string, Flight<T>>();

  get(key: string): Flight<T> | undefined {
    return this.flights.get(key);
  }

  get size(): number {
    return this.flights.size;
  }

  /** Opens a flight for the key; settling it (once) removes it and wakes every waiter. */
  open(key: string): Flight<T> {
    let resolve!: (o: Landed<T>) => void;
    const done = new Promise<Landed<T>>((r) => (resolve = r));
    let settled = false;
    const flight: Flight<T> = {
      settle: (outcome, value) => {
        if (settled) return;
        settled = true;
        if (this.flights.get(key) === flight) this.flights.delete(key);
        resolve({ outcome, value });
      },
      wait: (timeoutMs) =>
        new Promise<Landed<T>>((res) => {
          const t = setTimeout(() => res({ outcome: 'timeout' }), timeoutMs);
          t.unref();
          void done.then((o) => {
            clearTimeout(t);
            res(o);
          });
        }),
    };
    this.flights.set(key, flight);
    return flight;
  }
}
