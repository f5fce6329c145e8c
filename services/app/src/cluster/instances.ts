// App instances announce themselves in Redis with a TTL so /cluster can list the live ones with
// their uptime; an instance that dies simply stops renewing and drops off.
import type { Redis } from 'ioredis';

export interface InstanceInfo {
  name: string;
  node: string;
  startedAt: number;
  lastSeen: number;
}

const SET = 'dramble:instances';
const key = (name: string): string => `dramble:instance:${name}`;

export class InstanceRegistry {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly self: { name: string; node: string; startedAt: number },
    private readonly intervalMs = 5000,
  ) {}

  async beat(): Promise<void> {
    const info: InstanceInfo = { ...this.self, lastSeen: Date.now() };
    const ttl = Math.ceil((this.intervalMs * 3) / 1000);
    await this.redis.multi().set(key(this.self.name), JSON.stringify(info), 'EX', ttl).sadd(SET, this.self.name).exec();
  }

  start(): void {
    const tick = (): void => void this.beat().catch(() => undefined);
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  /** Stops beating and removes this instance from the list (on shutdown). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.multi().del(key(this.self.name)).srem(SET, this.self.name).exec().catch(() => undefined);
  }

  async list(): Promise<InstanceInfo[]> {
    const names = await this.redis.smembers(SET);
    if (names.length === 0) return [];
    const values = await this.redis.mget(names.map(key));
    const gone = names.filter((_, i) => !values[i]);
    if (gone.length) await this.redis.srem(SET, ...gone);
    return values
      .filter((v): v is string => typeof v === 'string')
      .map((v) => JSON.parse(v) as InstanceInfo)
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
