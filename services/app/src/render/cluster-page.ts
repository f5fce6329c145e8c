// /cluster: which instance and node served this request, the live app instances, the MySQL topology.
import type { InstanceInfo } from '../cluster/instances.js';
import type { Topology } from '../db/topology.js';
import { html, type SafeHtml } from './html.js';
import { assets } from './assets.js';
import { layout, type Viewer } from './layout.js';

export interface ClusterSnapshot {
  served: { instance: string; node: string };
  instances: InstanceInfo[] | null;
  topology: Topology;
  topologyPublished: boolean;
  primaryDown: boolean;
  usableReplicaIds: string[];
  /** Lag this instance measured, used when the topology carries none. */
  probedLag: Record<string, number | null>;
  now: number;
}

export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function lagText(lag: number | null): string {
  return lag === null ? '—' : `${lag} s`;
}

export function instancesHtml(s: ClusterSnapshot): SafeHtml {
  if (s.instances === null) return html`<p class="bad">The instance list lives in Redis, which cannot be reached right now.</p>`;
  return html`<table>
<thead><tr><th scope="col">Instance</th><th scope="col">Node</th><th scope="col">Uptime</th></tr></thead>
<tbody>${s.instances.map(
    (i) => html`<tr${i.name === s.served.instance ? html` aria-current="true"` : ''}><td>${i.name}${i.name === s.served.instance ? ' (served you)' : ''}</td><td>${i.node || '—'}</td><td>${formatUptime(s.now - i.startedAt)}</td></tr>`,
  )}</tbody>
</table>`;
}

export function topologyHtml(s: ClusterSnapshot): SafeHtml {
  const t = s.topology;
  return html`<p class="meta">${s.topologyPublished ? `Published by the db-manager, epoch ${t.epoch}.` : 'No topology published yet; using the configured servers.'}</p>
<table>
<thead><tr><th scope="col">Role</th><th scope="col">Server</th><th scope="col">Address</th><th scope="col">Lag</th><th scope="col">State</th></tr></thead>
<tbody>
${t.primary ? html`<tr><td>primary</td><td>${t.primary.id}</td><td>${t.primary.host}:${t.primary.port}</td><td>—</td><td class="${s.primaryDown ? 'bad' : 'ok'}">${s.primaryDown ? 'unreachable' : 'ok'}</td></tr>` : html`<tr><td>primary</td><td colspan="4" class="bad">none: failover in progress</td></tr>`}
${t.replicas.map(
  (r) => html`<tr><td>replica</td><td>${r.id}</td><td>${r.host}:${r.port}</td><td>${lagText(r.lagSeconds ?? s.probedLag[r.id] ?? null)}</td><td class="${s.usableReplicaIds.includes(r.id) ? 'ok' : 'bad'}">${s.usableReplicaIds.includes(r.id) ? 'serving reads' : 'skipped'}</td></tr>`,
)}
</tbody>
</table>`;
}

export function clusterPage(s: ClusterSnapshot, viewer: Viewer | null): string {
  return layout({
    title: 'Cluster',
    viewer,
    scripts: [assets.clusterJs.path],
    body: html`<h1>The cluster</h1>
<section class="card" aria-labelledby="served-h">
<h2 id="served-h">This request</h2>
<p>Served by app instance <strong id="served-instance">${s.served.instance}</strong>${s.served.node ? html` on node <strong>${s.served.node}</strong>` : ''}.</p>
</section>
<section class="card" aria-labelledby="instances-h">
<h2 id="instances-h">App instances</h2>
<div id="instances">${instancesHtml(s)}</div>
</section>
<section class="card" aria-labelledby="topology-h">
<h2 id="topology-h">MySQL</h2>
<div id="topology">${topologyHtml(s)}</div>
</section>
<p class="meta" id="live-status" aria-live="polite">Reload to refresh (live updates need JavaScript).</p>`,
  });
}
