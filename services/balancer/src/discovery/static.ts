// Static discovery: the --backend list. A name may follow '#' (http://10.0.0.5:3000#pi2); without
// one the backend is named after host:port.
import type { BackendTarget, Discovery } from './types.js';

export function parseBackendUrl(raw: string): BackendTarget {
  const u = new URL(raw);
  if (u.protocol !== 'http:') throw new Error(`backend ${raw}: only http:// backends are supported`);
  const name = u.hash ? decodeURIComponent(u.hash.slice(1)) : u.host;
  return { id: u.host, url: u.origin, name, draining: false };
}

export function createStaticDiscovery(urls: readonly string[]): Discovery & { set(urls: readonly string[]): void } {
  let listener: ((t: BackendTarget[]) => void) | undefined;
  let current = urls.map(parseBackendUrl);
  return {
    start(onChange) {
      listener = onChange;
      onChange(current);
      return Promise.resolve();
    },
    stop() {
      listener = undefined;
      return Promise.resolve();
    },
    /** SIGHUP: a new list replaces the old one (kept backends keep their pools and health). */
    set(next) {
      current = next.map(parseBackendUrl);
      listener?.(current);
    },
  };
}
