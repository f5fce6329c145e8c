// Follows the topology the db-manager publishes: reads the key at start and on every reconnect,
// listens on the channel, and re-reads every few seconds in case a message was missed. Every path
// goes through Database.applyTopology, which keeps only a strictly newer epoch. Each answer from
// Redis also counts as a heartbeat: once Redis is silent past the write stop bound, writes stop.
import type { Redis } from 'ioredis';
import type { Logger } from '@dramble/lib';
import type { Database } from './database.js';
import { parseTopology, TOPOLOGY_CHANNEL, TOPOLOGY_KEY } from './topology.js';

export interface TopologyFollowerOptions {
  onChange?: () => void;
  onMessage?: (result: 'applied' | 'ignored' | 'malformed') => void;
  /** Re-read period of the key. Default 5000 ms, and at most a third of the write stop bound. */
  refreshMs?: number;
  /** Writes stop when Redis has not answered for this long (0: never). */
  writeStopAfterSilenceMs?: number;
}

export class TopologyFollower {
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: TopologyFollowerOptions = {},
  ) {
    const stop = options.writeStopAfterSilenceMs ?? 0;
    // Three re-reads fit in the bound, so one slow or lost answer does not stop writes.
    this.refreshMs = Math.max(100, Math.min(options.refreshMs ?? 5000, stop > 0 ? Math.floor(stop / 3) : Infinity));
  }

  async start(): Promise<void> {
    this.db.requireTopologyHeartbeat(this.options.writeStopAfterSilenceMs ?? 0);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== TOPOLOGY_CHANNEL) return;
      this.db.noteTopologyHeard();
      this.handle(message, 'channel');
    });
    // A reconnect may have missed messages: re-read the key (an older epoch there is ignored).
    this.subscriber.on('ready', () => void this.refresh());
    this.subscriber.subscribe(TOPOLOGY_CHANNEL).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not subscribe to the topology channel yet'));
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    let text: string | null;
    try {
      text = await this.redis.get(TOPOLOGY_KEY);
    } catch {
      return; // Redis down: the last topology stands for reads; writes stop once the silence lasts
    }
    // An empty key is an answer too: Redis is reachable, and no db-manager has published yet.
    this.db.noteTopologyHeard();
    if (text) this.handle(text, 'key');
  }

  private handle(text: string, from: string): void {
    const t = parseTopology(text);
    if (!t) {
      this.logger.warn({ from }, 'ignoring a malformed topology');
      this.options.onMessage?.('malformed');
      return;
    }
    if (this.db.applyTopology(t)) {
      this.options.onMessage?.('applied');
      this.options.onChange?.();
    } else {
      this.options.onMessage?.('ignored');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
