// Publishes the topology for the app: a JSON value under `dramble:topology` and the same JSON on
// the pub/sub channel of that name. The epoch is an INCR on a Redis key, so it only grows, across
// manager restarts and between managers.
import { Redis } from 'ioredis';
import type { Logger } from '@dramble/lib';

export const TOPOLOGY_KEY = 'dramble:topology';
export const TOPOLOGY_CHANNEL = 'dramble:topology';
export const EPOCH_KEY = 'dramble:topology:epoch';

export interface PublishedTopology {
  epoch: number;
  primary: { id: string; host: string; port: number } | null;
  replicas: Array<{ id: string; host: string; port: number; lagSeconds: number | null }>;
}

export interface TopologyPublisher {
  /** Returns a new, larger epoch (persisted where possible). */
  nextEpoch(): Promise<number>;
  publish(t: PublishedTopology): Promise<void>;
  close(): Promise<void>;
}

export function createRedisPublisher(url: string, logger: Logger): TopologyPublisher {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 2000 });
  redis.on('error', (err) => logger.debug({ err: err.message }, 'redis error'));
  return {
    async nextEpoch() {
      // Never go back below an epoch already published (e.g. the key was set by hand or restored).
      const current = Number(JSON.parse((await redis.get(TOPOLOGY_KEY)) ?? '{}').epoch ?? 0);
      let epoch = await redis.incr(EPOCH_KEY);
      if (epoch <= current) {
        await redis.set(EPOCH_KEY, String(current + 1));
        epoch = current + 1;
      }
      return epoch;
    },
    async publish(t) {
      const text = JSON.stringify(t);
      await redis.multi().set(TOPOLOGY_KEY, text).publish(TOPOLOGY_CHANNEL, text).exec();
    },
    async close() {
      redis.disconnect();
    },
  };
}

/** Without Redis: epochs still grow within this process so the API shows a consistent number. */
export function createLocalPublisher(): TopologyPublisher {
  let epoch = 0;
  return {
    nextEpoch: async () => ++epoch,
    publish: async () => undefined,
    close: async () => undefined,
  };
}
