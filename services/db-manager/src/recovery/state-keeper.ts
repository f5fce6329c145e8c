// Keeps the durable manager state in step with the manager's memory: loaded when this manager
// becomes the acting leader (start, restart, leader change), written on the primary whenever it
// changed. Writes are chained, never concurrent, and never block a probe round: with semi-sync on and
// no replica left, a commit can wait for the ack timeout.
import type { Target } from '../probe/connection.js';
import { errorText } from '../probe/connection.js';
import { loadDurableState, saveDurableState, stateSignature, type ManagerState, type StateStoreOptions, type StoredState } from './durable-state.js';

export class StateKeeper {
  private version = 0;
  private written = '';
  private chain: Promise<void> = Promise.resolve();
  /** True until load() succeeded once since the last leader change. */
  stale = true;
  lastError: string | null = null;

  constructor(
    private readonly o: StateStoreOptions,
    private readonly identity: string,
    private readonly onError: (message: string) => void,
  ) {}

  /**
   * Reads the newest copy; the caller replaces its memory with it. Undefined (and still stale) while no
   * instance answers: deciding on an empty memory then could undo a failover recorded on them.
   */
  async load(targets: Target[]): Promise<StoredState | null | undefined> {
    const { newest, answered } = await loadDurableState(this.o, targets);
    if (answered === 0) return undefined;
    if (newest) {
      this.version = Math.max(this.version, newest.version);
      this.written = stateSignature(newest);
    }
    this.stale = false;
    return newest;
  }

  /** Queues a write of `state` on `primary` when it differs from what was last written. */
  saveIfChanged(primary: Target | undefined, state: ManagerState, leaseGeneration: number): Promise<void> {
    const sig = stateSignature(state);
    if (!primary || this.stale || sig === this.written) return this.chain;
    this.chain = this.chain.then(async () => {
      if (sig === this.written) return;
      const version = this.version + 1;
      try {
        const ok = await saveDurableState(this.o, primary, state, { version, writtenBy: this.identity, leaseGeneration });
        if (ok) {
          this.version = version;
          this.written = sig;
          this.lastError = null;
        }
      } catch (err) {
        const text = errorText(err);
        if (text !== this.lastError) this.onError(`could not write the manager state on ${primary.id}: ${text}`);
        this.lastError = text;
      }
    });
    return this.chain;
  }

  /**
   * Records on the candidate, before it is promoted, that it is about to become the primary: a manager
   * that dies right after the promotion leaves a record naming the new primary, not the old one.
   * Never throws: without it the promotion still goes on (and bootstrap's other rules apply).
   */
  async recordIntent(candidate: Target, state: ManagerState, leaseGeneration: number): Promise<void> {
    await this.chain;
    const version = this.version + 1;
    try {
      if (await saveDurableState(this.o, candidate, state, { version, writtenBy: this.identity, leaseGeneration, intent: true })) this.version = version;
    } catch (err) {
      this.onError(`could not record the promotion of ${candidate.id} before it: ${errorText(err)}`);
    }
  }

  /** Waits for queued writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }
}
