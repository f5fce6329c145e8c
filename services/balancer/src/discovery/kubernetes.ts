// Backend discovery from the EndpointSlices of a Kubernetes Service: list, then watch from the list's
// resourceVersion, resuming after a dropped watch and relisting after 410 Gone; ready endpoints become
// targets and terminating-but-serving ones draining targets. (Its own loop rather than the client's
// ListWatch, which can leave a watch running when stopped mid-reconnect and gives up after errors.)
import { DiscoveryV1Api, KubeConfig, Watch, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from '@dramble/lib';
import type { BackendTarget, Discovery } from './types.js';

/** The Kubernetes API calls this adapter makes (the balancer's RBAC Role must grant exactly these). */
export const KUBE_RBAC = [{ apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list', 'watch'] }] as const;

export interface KubernetesDiscoveryOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Name of the Service whose EndpointSlices list the backends. */
  service: string;
  /** Port name (e.g. "http") or number; default: the slice's only port, or its first TCP port. */
  port?: number | string;
  logger: Logger;
  /** First delay before re-establishing a failed list/watch; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/** Loads a client config from a kubeconfig file, or the default chain (KUBECONFIG, ~/.kube/config, in-cluster service account). */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

type SlicePort = NonNullable<V1EndpointSlice['ports']>[number];

function pickPort(ports: readonly SlicePort[] | undefined, want: number | string | undefined): number | undefined {
  const list = ports ?? [];
  if (typeof want === 'number') return want;
  if (typeof want === 'string' && want !== '') {
    if (/^\d+$/.test(want)) return Number(want);
    return list.find((p) => p.name === want)?.port ?? undefined;
  }
  if (list.length === 1) return list[0]?.port ?? undefined;
  return list.find((p) => (p.protocol ?? 'TCP') === 'TCP')?.port ?? undefined;
}

/** Pure: the targets a set of EndpointSlices describes. Ready endpoints serve; serving+terminating ones drain. */
export function targetsFromSlices(slices: readonly V1EndpointSlice[], port?: number | string): BackendTarget[] {
  const byId = new Map<string, BackendTarget>();
  for (const slice of slices) {
    const p = pickPort(slice.ports, port);
    if (p === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses?.[0];
      if (!address) continue;
      const c = ep.conditions ?? {};
      // A nil ready condition means ready (API docs); terminating endpoints are never ready.
      const ready = (c.ready ?? true) && c.terminating !== true;
      const draining = !ready && c.serving === true && c.terminating === true;
      if (!ready && !draining) continue;
      const host = slice.addressType === 'IPv6' ? `[${address}]` : address;
      const id = `${host}:${p}`;
      const target: BackendTarget = { id, url: `http://${host}:${p}`, name: ep.targetRef?.name ?? ep.nodeName ?? ep.hostname ?? address, draining };
      // The same endpoint can sit in two slices while they are rebalanced; a ready copy wins.
      const prev = byId.get(id);
      if (!prev || (prev.draining && !draining)) byId.set(id, target);
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function createKubernetesDiscovery(opts: KubernetesDiscoveryOptions): Discovery {
  const { kubeConfig, namespace, service, logger } = opts;
  const log = logger.child({ component: 'kubernetes-discovery', namespace, service });
  const firstDelay = opts.retryDelayMs ?? 500;
  const maxDelay = opts.maxRetryDelayMs ?? 10_000;
  const labelSelector = `kubernetes.io/service-name=${service}`;
  const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`;
  const api = kubeConfig.makeApiClient(DiscoveryV1Api);
  const watcher = new Watch(kubeConfig);
  const slices = new Map<string, V1EndpointSlice>();
  let resourceVersion = '';
  let stopped = true;
  let synced = false;
  let emitQueued = false;
  let last: string | undefined;
  let current: AbortController | undefined;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let onChange: (targets: BackendTarget[]) => void = () => {};

  // Coalesce: several events in one read are reported once, and only when the targets really changed.
  const scheduleEmit = (): void => {
    if (emitQueued || !synced) return;
    emitQueued = true;
    queueMicrotask(() => {
      emitQueued = false;
      if (stopped) return;
      const targets = targetsFromSlices([...slices.values()], opts.port);
      const key = JSON.stringify(targets);
      if (key === last) return;
      last = key;
      log.info({ targets: targets.map((t) => `${t.name}=${t.url}${t.draining ? ' (draining)' : ''}`) }, 'backends from EndpointSlices changed');
      try {
        onChange(targets);
      } catch (err) {
        log.error({ err }, 'discovery listener failed');
      }
    });
  };

  const relist = async (): Promise<void> => {
    const list = await api.listNamespacedEndpointSlice({ namespace, labelSelector });
    slices.clear();
    for (const s of list.items) if (s.metadata?.name) slices.set(s.metadata.name, s);
    resourceVersion = list.metadata?.resourceVersion ?? '';
    synced = true;
    scheduleEmit();
  };

  /** One watch from resourceVersion; resolves when the server ends it cleanly, rejects on errors (status 410 = history gone). */
  const watchOnce = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let gone = false;
      const onEvent = (type: string, obj: V1EndpointSlice & { code?: number }): void => {
        if (type === 'ERROR') {
          if (obj.code === 410) gone = true;
          return;
        }
        const name = obj.metadata?.name;
        if (type === 'ADDED' || type === 'MODIFIED') {
          if (name) slices.set(name, obj);
          scheduleEmit();
        } else if (type === 'DELETED') {
          if (name) slices.delete(name);
          scheduleEmit();
        }
        resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
      };
      const onDone = (err: unknown): void => {
        current = undefined;
        if (gone) reject(Object.assign(new Error('watch history expired (410 Gone)'), { statusCode: 410 }));
        else if (err) reject(err);
        else resolve();
      };
      watcher
        .watch(path, { resourceVersion, labelSelector, allowWatchBookmarks: true }, onEvent, onDone)
        .then((ctl) => {
          if (stopped) ctl.abort();
          else current = ctl;
        }, reject);
    });

  const pause = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const run = async (firstList: () => void): Promise<void> => {
    let delay = firstDelay;
    let first = true;
    while (!stopped) {
      try {
        if (!resourceVersion) {
          try {
            await relist();
          } finally {
            if (first) firstList();
            first = false;
          }
          delay = firstDelay;
        }
        if (stopped) break;
        await watchOnce();
        delay = firstDelay; // a watch that the server ended cleanly: resume from where it stopped
      } catch (err) {
        if (stopped) break;
        if ((err as { statusCode?: number }).statusCode === 410) {
          log.info('watch history expired; listing again');
          resourceVersion = '';
          continue;
        }
        log.warn({ err, retryInMs: delay }, 'EndpointSlice list/watch failed; retrying');
        await pause(delay);
        delay = Math.min(delay * 2, maxDelay);
      }
    }
  };

  return {
    async start(listener) {
      if (loop) throw new Error('Kubernetes discovery already started');
      onChange = listener;
      stopped = false;
      resourceVersion = '';
      synced = false;
      last = undefined;
      // Resolves once the first list has been tried: with its targets reported, or (API unavailable) retrying in the background.
      await new Promise<void>((resolve) => {
        loop = run(resolve);
      });
    },
    async stop() {
      stopped = true;
      current?.abort();
      wake?.();
      await loop;
      loop = undefined;
    },
  };
}
