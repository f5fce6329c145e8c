// The timing half of leader election, shared by the Lease and Redis lock backends: try to take or keep
// the lock on a timer, and give up leadership before the lock can expire when renewals stop succeeding.
import type { Logger } from '@dramble/lib';
import type { LeaderElection } from './types.js';

/** A lock that one process holds at a time; each method is a single round trip. */
export interface LockBackend {
  /** Takes the lock if free or expired, renews it if ours. Returns the holder afterwards (our identity when we hold it). Throws on I/O errors. */
  acquireOrRenew(): Promise<string | null>;
  /** Gives the lock up if we still hold it. */
  release(): Promise<void>;
}

export interface ElectionLoopOptions {
  identity: string;
  backend: LockBackend;
  /** How often the leader renews. */
  renewIntervalMs: number;
  /** How often a follower tries to take over (default renewIntervalMs). */
  retryIntervalMs?: number;
  /**
   * The leader steps down when it has not renewed for this long; must be shorter than the lock's
   * lifetime so that it stops acting before anyone else can take over.
   */
  renewDeadlineMs: number;
  logger: Logger;
}

export function createElectionLoop(opts: ElectionLoopOptions): LeaderElection {
  const { identity, backend, logger: log } = opts;
  const retryIntervalMs = opts.retryIntervalMs ?? opts.renewIntervalMs;
  if (opts.renewIntervalMs >= opts.renewDeadlineMs) throw new Error(`renewIntervalMs (${opts.renewIntervalMs}) must be shorter than the renew deadline (${opts.renewDeadlineMs})`);
  let isLeader = false;
  let generation = 0;
  /** Leadership ends here at the latest, by this process's clock, whatever the timers have done. */
  let validUntil = 0;
  let holder: string | null = null;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  const listeners: Array<(leader: boolean) => void> = [];

  const setLeader = (value: boolean, why: string): void => {
    if (value === isLeader) return;
    isLeader = value;
    if (value) generation++;
    if (!value && deadline) {
      clearTimeout(deadline);
      deadline = undefined;
    }
    if (value) log.info({ identity }, `became leader (${why})`);
    else log.warn({ identity, holder }, `stopped being leader (${why})`);
    for (const l of listeners) {
      try {
        l(value);
      } catch (err) {
        log.error({ err }, 'leader election listener failed');
      }
    }
  };

  const attempt = async (): Promise<void> => {
    const startedAt = Date.now();
    try {
      const now = await backend.acquireOrRenew();
      holder = now;
      if (now === identity) {
        // A renewal that came back after the deadline proves nothing about the time in between.
        if (Date.now() - startedAt >= opts.renewDeadlineMs) return;
        validUntil = startedAt + opts.renewDeadlineMs;
        if (deadline) clearTimeout(deadline);
        deadline = setTimeout(() => setLeader(false, `no successful renewal for ${opts.renewDeadlineMs} ms`), opts.renewDeadlineMs - (Date.now() - startedAt));
        deadline.unref();
        setLeader(true, 'lock acquired');
      } else {
        setLeader(false, `lock held by ${now ?? 'nobody'}`);
      }
    } catch (err) {
      // Keep leading until the deadline timer says otherwise: one failed round trip is not a lost lock.
      log.warn({ err, identity, isLeader }, 'leader election round trip failed');
    }
  };

  const loop = (): void => {
    if (!running) return;
    inFlight = attempt().finally(() => {
      inFlight = undefined;
      if (running) timer = setTimeout(loop, isLeader ? opts.renewIntervalMs : retryIntervalMs);
    });
  };

  return {
    get isLeader() {
      // After a pause the deadline timer may not have run yet while I/O callbacks already do: the clock decides.
      return isLeader && Date.now() < validUntil;
    },
    get generation() {
      return generation;
    },
    get holder() {
      return holder;
    },
    async start() {
      if (running) return;
      running = true;
      loop();
      await inFlight;
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      // A round trip that hangs must not hold up shutdown for longer than leadership could last anyway.
      let waitTimer: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise<void>((resolve) => (waitTimer = setTimeout(resolve, opts.renewDeadlineMs)))]);
      clearTimeout(waitTimer);
      const wasLeader = isLeader;
      setLeader(false, 'stopping');
      if (wasLeader) {
        try {
          await backend.release();
          holder = null;
        } catch (err) {
          log.warn({ err }, 'could not release the leader lock; it will expire');
        }
      }
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
