// Leader election for running two or more managers: exactly one acts.

export interface LeaderElection {
  /**
   * True while this process holds the lease by its own clock: the last successful renewal started less
   * than the renew deadline ago. Checked before every mutating statement (ha/lease-guard.ts), so a leader
   * that was paused (SIGSTOP, a stall) past its lease does nothing when it wakes, even before its timers run.
   */
  readonly isLeader: boolean;
  /** Counts this process's terms as leader; written with the durable state beside each change. */
  readonly generation?: number;
  /** Identity of the current holder as last seen, or null when nobody holds it. */
  readonly holder: string | null;
  start(): Promise<void>;
  /** Releases the lease/lock if held, so a standby can take over at once. */
  stop(): Promise<void>;
  onChange(listener: (isLeader: boolean) => void): void;
}
