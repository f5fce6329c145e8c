// Follows the topology the db-manager publishes: reads the key at start and on every reconnect,
// listens on the channel, and re-reads every few seconds in case a message was missed.
import type { Redis } from 'ioredis';
import type { Logger } from '@dramble/lib';
import type { Database } from './database.js';
import { parseTopology, TOPOLOGY_CHANNEL, TOPOLOGY_KEY } from './topology.js';

export class TopologyFollower {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly onChange: () => void = () => undefined,
    private readonly onMessage: (result: 'applied' | 'ignored' | 'malformed') => void = () => undefined,
    private readonly refreshMs = 5000,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === TOPOLOGY_CHANNEL) this.handle(message, 'channel');
    });
    this.subscriber.on('ready', () => void this.refresh());
    this.subscriber.subscribe(TOPOLOGY_CHANNEL).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not subscribe to the topology channel yet'));
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      const text = await this.redis.get(TOPOLOGY_KEY);
      if (text) this.handle(text, 'key');
    } catch {
      /* Redis down: keep following the last topology we had */
    }
  }

  private handle(text: string, from: string): void {
    const t = parseTopology(text);
    if (!t) {
      this.logger.warn({ from }, 'ignoring a malformed topology');
      this.onMessage('malformed');
      return;
    }
    if (this.db.applyTopology(t)) {
      this.onMessage('applied');
      this.onChange();
    } else {
      this.onMessage('ignored');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
