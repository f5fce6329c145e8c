// Which port each process of a local cluster listens on: fixed, memorable defaults (balancer on
// 8080, dashboard on 8079, ...) that fall back to a free port when something else holds them.
import net from 'node:net';

export interface PortRequest {
  /** e.g. "balancer", "balancer-admin", "mysql-1", "app-2-admin" */
  key: string;
  /** The port we would like; 0 means any free port. */
  wanted: number;
  /** True when the user asked for this port explicitly: taken is then an error, not a fallback. */
  strict?: boolean;
}

export interface PortLayout {
  port: number;
  basePort?: number;
  replicas: number;
  apps: number;
}

/** The ports a cluster would like, before checking what is free. Pure. */
export function wantedPorts(layout: PortLayout, previous: Record<string, number> = {}): PortRequest[] {
  const b = layout.basePort;
  const at = (offset: number, fixed: number): number => (b === undefined ? fixed : b === 0 ? 0 : b + offset);
  const out: PortRequest[] = [];
  const add = (key: string, fallback: number): void => {
    out.push({ key, wanted: previous[key] ?? fallback });
  };
  out.push({ key: 'balancer', wanted: layout.port, strict: layout.port !== 0 });
  add('dashboard', at(0, 8079));
  add('balancer-admin', at(1, 9080));
  add('db-manager-admin', at(2, 9090));
  add('redis', at(3, 6380));
  for (let i = 1; i <= layout.replicas + 1; i++) add(`mysql-${i}`, at(9 + i, 3306 + i));
  for (let i = 1; i <= layout.apps; i++) {
    add(`app-${i}`, at(19 + i, 8080 + i));
    add(`app-${i}-admin`, at(39 + i, 9080 + i));
  }
  return out;
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export class PortTakenError extends Error {
  constructor(readonly key: string, readonly port: number) {
    super(`port ${port} (${key}) is already in use; pick another with --port`);
    this.name = 'PortTakenError';
  }
}

/** Resolves every request to a port that is free now; no two keys get the same port. */
export async function assignPorts(requests: PortRequest[]): Promise<{ ports: Record<string, number>; moved: string[] }> {
  const ports: Record<string, number> = {};
  const used = new Set<number>();
  const moved: string[] = [];
  for (const r of requests) {
    let port = r.wanted;
    if (port !== 0 && (used.has(port) || !(await isPortFree(port)))) {
      if (r.strict) throw new PortTakenError(r.key, port);
      moved.push(`${r.key} ${port}`);
      port = 0;
    }
    while (port === 0 || used.has(port)) port = await freePort();
    used.add(port);
    ports[r.key] = port;
  }
  return { ports, moved };
}
