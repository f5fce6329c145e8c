// A prom-client registry per service, with the default process metrics (RSS, CPU, event loop lag, GC).
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'dramble_' });
  return registry;
}
