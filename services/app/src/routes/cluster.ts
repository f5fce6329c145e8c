// /cluster and its live stream /cluster/events (server-sent events).
import { Router, type Response } from 'express';
import { clusterPage, instancesHtml, topologyHtml, type ClusterSnapshot } from '../render/cluster-page.js';
import { fillBanner } from '../render/layout.js';
import { viewerOf, type AppDeps } from './context.js';
import { bannerFor } from './serve-page.js';

export async function clusterSnapshot(deps: AppDeps): Promise<ClusterSnapshot> {
  let instances: ClusterSnapshot['instances'] = null;
  try {
    instances = await deps.instances.list();
  } catch {
    instances = null;
  }
  return {
    served: { instance: deps.instanceName, node: deps.nodeName },
    instances,
    topology: deps.db.topology,
    topologyPublished: deps.db.publishedTopology !== undefined,
    primaryDown: deps.db.primaryDown,
    usableReplicaIds: deps.db.usableReplicas().map((r) => r.id),
    probedLag: deps.db.probedLag(),
    now: Date.now(),
  };
}

export function clusterRoutes(deps: AppDeps, streamIntervalMs = 2000): Router {
  const r = Router();

  r.get('/cluster', async (_req, res) => {
    const snap = await clusterSnapshot(deps);
    res.type('html').send(fillBanner(clusterPage(snap, viewerOf(res)), bannerFor(deps)));
  });

  r.get('/cluster/events', (req, res: Response) => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    let sending = false;
    const push = async (): Promise<void> => {
      if (sending || res.writableEnded) return;
      sending = true;
      try {
        const snap = await clusterSnapshot(deps);
        const data = { ...snap, instancesHtml: instancesHtml(snap).value, topologyHtml: topologyHtml(snap).value };
        if (!res.writableEnded) res.write(`event: snapshot\ndata: ${JSON.stringify(data)}\n\n`);
      } finally {
        sending = false;
      }
    };
    const timer = setInterval(() => void push(), streamIntervalMs);
    const onTopology = (): void => void push();
    deps.onTopologyChange.add(onTopology);
    deps.streams.add(res);
    req.on('close', () => {
      clearInterval(timer);
      deps.onTopologyChange.delete(onTopology);
      deps.streams.delete(res);
    });
    void push();
  });

  return r;
}
