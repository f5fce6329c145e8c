// What a balancing strategy sees: plain data about each candidate backend, no sockets.

export interface Candidate {
  id: string;
  /** Relative weight (1 = full); slow start lowers it for a freshly re-admitted backend. */
  weight: number;
  /** Requests currently in flight to this backend. */
  inFlight: number;
  /** EWMA of response-header latency in ms (0 = no sample yet). */
  ewmaMs: number;
}

export interface PickRequest {
  /** Stickiness key (cookie value or client IP) for consistent hashing. */
  hashKey?: string;
  /** Uniform random numbers in [0, 1); injectable for tests. */
  random?: () => number;
}

export interface Strategy {
  readonly name: string;
  /** Chooses one of `candidates` (never empty when called), or undefined if none fits. */
  pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined;
}
