// DNS discovery: the A records of --backend-host, re-resolved every interval (a Kubernetes
// headless Service, or a round-robin name). A failed lookup keeps the last good list.
import { promises as dns } from 'node:dns';
import type { Logger } from '@dramble/lib';
import type { BackendTarget, Discovery } from './types.js';

export interface DnsDiscoveryOptions {
  host: string;
  port: number;
  intervalMs: number;
  logger: Logger;
  /** Injectable for tests; default dns.resolve4 (falls back to lookup for /etc/hosts names). */
  resolve?: (host: string) => Promise<string[]>;
}

async function defaultResolve(host: string): Promise<string[]> {
  try {
    return await dns.resolve4(host);
  } catch {
    const all = await dns.lookup(host, { all: true, family: 4 });
    return all.map((a) => a.address);
  }
}

export function createDnsDiscovery(options: DnsDiscoveryOptions): Discovery {
  const resolve = options.resolve ?? defaultResolve;
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const refresh = async (onChange: (t: BackendTarget[]) => void): Promise<void> => {
    try {
      const ips = [...new Set(await resolve(options.host))].sort();
      const key = ips.join(',');
      if (key === last) return;
      last = key;
      onChange(ips.map((ip) => ({ id: `${ip}:${options.port}`, url: `http://${ip}:${options.port}`, name: `${options.host}/${ip}`, draining: false })));
    } catch (err) {
      options.logger.warn({ err, host: options.host }, 'dns discovery lookup failed; keeping the last backends');
    }
  };
  return {
    async start(onChange) {
      await refresh(onChange);
      timer = setInterval(() => void refresh(onChange), options.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      return Promise.resolve();
    },
  };
}
