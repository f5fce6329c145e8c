// Small JSON clients for the services' admin APIs (db-manager /api/topology, balancer /api/backends, ...).
import { request } from 'undici';

export class ApiError extends Error {
  constructor(readonly url: string, readonly status: number, readonly body: string) {
    super(`${url} answered ${status}: ${body.slice(0, 300)}`);
    this.name = 'ApiError';
  }
}

export async function getJson<T = unknown>(url: string, token?: string, timeoutMs = 2000): Promise<T> {
  const res = await request(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new ApiError(url, res.statusCode, text);
  return JSON.parse(text) as T;
}

export async function getText(url: string, timeoutMs = 2000): Promise<{ status: number; text: string }> {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return { status: res.statusCode, text: await res.body.text() };
}

export async function postJson<T = unknown>(url: string, body: unknown, token?: string, timeoutMs = 60_000): Promise<T> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new ApiError(url, res.statusCode, text);
  return (text ? JSON.parse(text) : {}) as T;
}

/** GET url and report only whether it answered 2xx. */
export async function answersOk(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  }
}

// --- shapes of the answers we read (only the fields the CLI uses) ---

export interface TopologyInstance {
  id: string;
  host: string;
  port: number;
  role: string;
  readOnly?: boolean;
  lagSeconds?: number | null;
  gtid?: string;
  healthy?: boolean;
}

export interface Topology {
  primary: string | null;
  instances: TopologyInstance[];
  problem?: unknown;
  epoch?: number;
}

export interface Backend {
  name?: string;
  url?: string;
  healthy?: boolean;
  health?: string;
  state?: string;
  requests?: number;
  [k: string]: unknown;
}

/** The db-manager's topology, tolerant of `primary` given as an id or an object. */
export async function fetchTopology(adminUrl: string): Promise<Topology> {
  const raw = await getJson<Record<string, unknown>>(`${adminUrl}/api/topology`);
  const primary = raw['primary'];
  const primaryId = primary && typeof primary === 'object' ? String((primary as { id?: unknown }).id ?? '') || null : (primary as string | null) ?? null;
  const instances = Array.isArray(raw['instances']) ? (raw['instances'] as TopologyInstance[]) : [];
  return { ...raw, primary: primaryId, instances } as Topology;
}

/** The balancer's backends, whether answered as an array or as { backends: [...] }. */
export async function fetchBackends(adminUrl: string): Promise<Backend[]> {
  const raw = await getJson<unknown>(`${adminUrl}/api/backends`);
  if (Array.isArray(raw)) return raw as Backend[];
  const list = (raw as { backends?: unknown }).backends;
  return Array.isArray(list) ? (list as Backend[]) : [];
}

export function backendHealthy(b: Backend): boolean {
  if (typeof b.healthy === 'boolean') return b.healthy;
  const word = typeof b.health === 'string' ? b.health : b.state;
  return typeof word === 'string' ? /^(up|healthy|ok)$/i.test(word) : false;
}

/** The instance in a topology that runs on a port (instances are named host:port by the CLI). */
export function instanceOnPort(t: Topology, port: number): TopologyInstance | undefined {
  return t.instances.find((i) => Number(i.port) === port || i.id.endsWith(`:${port}`));
}
