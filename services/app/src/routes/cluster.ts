// /cluster and its live stream /cluster/events (server-sent events).
import { Router, type Response } from 'express';
import { clusterPage, instancesHtml, topologyHtml, type ClusterSnapshot } from '../render/cluster-page.js';
import { fillBanner } from '../render/layout.js';
import { clientIp, viewerOf, type AppDeps } from './context.js';
import { EventBroadcaster } from './event-broadcaster.js';
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

  const events = new EventBroadcaster({
    frame: async () => {
      const snap = await clusterSnapshot(deps);
      const data = { ...snap, instancesHtml: instancesHtml(snap).value, topologyHtml: topologyHtml(snap).value };
      return `event: snapshot\ndata: ${JSON.stringify(data)}\n\n`;
    },
    intervalMs: streamIntervalMs,
    onTopologyChange: deps.onTopologyChange,
    maxConnections: deps.eventStreamMaxConnections,
    maxPerIp: deps.eventStreamMaxPerIp,
    onError: (err) => deps.logger.debug({ err: String(err) }, 'cluster snapshot for the event stream failed'),
  });

  // Needs no login, so anyone can open it: capped in total and per address (event-broadcaster.ts).
  r.get('/cluster/events', (req, res: Response) => {
    const ip = clientIp(req);
    const admission = events.admit(ip);
    if (!admission.ok) {
      res.status(admission.status).setHeader('Retry-After', String(admission.retryAfterSeconds));
      return void res.type('text/plain').send(admission.status === 503 ? 'Too many live streams are open; retry later.\n' : 'Too many live streams from your address.\n');
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    events.add(res, ip);
    deps.streams.add(res);
    // The response's close: the connection went away (or shutdown ended the stream).
    res.on('close', () => {
      events.remove(res);
      deps.streams.delete(res);
    });
  });

  return r;
}
