// Leader election for running two or more managers: exactly one acts.

export interface LeaderElection {
  readonly isLeader: boolean;
  /** Identity of the current holder as last seen, or null when nobody holds it. */
  readonly holder: string | null;
  start(): Promise<void>;
  /** Releases the lease/lock if held, so a standby can take over at once. */
  stop(): Promise<void>;
  onChange(listener: (isLeader: boolean) => void): void;
}
