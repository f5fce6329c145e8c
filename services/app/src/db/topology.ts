// The MySQL topology the db-manager publishes in Redis (key and channel `dramble:topology`), and the
// pure rules for following it: parse defensively, and never go back to an older epoch.
import { z } from 'zod';

export const TOPOLOGY_KEY = 'dramble:topology';
export const TOPOLOGY_CHANNEL = 'dramble:topology';

const endpoint = z.object({ id: z.string(), host: z.string().min(1), port: z.coerce.number().int().min(1).max(65535) });
const topologySchema = z.object({
  // Bounded so that a corrupt huge epoch cannot pin every reader to it forever (and stays exact in a double).
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  primary: endpoint.nullable(),
  replicas: z.array(endpoint.extend({ lagSeconds: z.number().nullable().optional() })).default([]),
});

export type Endpoint = z.infer<typeof endpoint>;
export interface ReplicaEndpoint extends Endpoint {
  lagSeconds?: number | null | undefined;
}
export interface Topology {
  epoch: number;
  primary: Endpoint | null;
  replicas: ReplicaEndpoint[];
}

/** Parses a published topology; returns undefined for anything that is not one (logged by the caller). */
export function parseTopology(text: string): Topology | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = topologySchema.safeParse(data);
  return r.success ? r.data : undefined;
}

/** A reader follows only a strictly newer epoch: a late message from before a failover must not undo it. */
export function shouldApply(held: Topology | undefined, next: Topology): boolean {
  return held === undefined || next.epoch > held.epoch;
}

export function endpointKey(e: { host: string; port: number }): string {
  return `${e.host}:${e.port}`;
}
