// The starter site a fresh install shows: what the cluster is, its hardware, how it is built and
// deployed. Applied once by the migrator (migration 2), so `npm start` has a site worth looking at.
import type { Sql } from '../db/database.js';
import { renderMarkdown } from './markdown.js';

interface Seed {
  kind: 'post' | 'page';
  slug: string;
  title: string;
  summary: string;
  tags: string[];
  body: string;
  daysAgo: number;
}

export const STARTER_SITE: Seed[] = [
  {
    kind: 'post',
    slug: 'what-is-the-dramble',
    title: 'What is the Dramble?',
    summary: 'A small, highly available website running on a stack of Raspberry Pis.',
    tags: ['cluster', 'introduction'],
    daysAgo: 3,
    body: `The Dramble is a cluster of Raspberry Pis that serves this website, in the tradition of
Jeff Geerling's original Raspberry Pi Dramble (a *Drupal* + *bramble* of Pis).

Every request you make takes this path:

1. **The balancer** — an edge proxy with a micro-cache — picks one of the app instances.
2. **An app instance** renders the page. It keeps no state of its own: sessions and rendered
   pages live in Redis, content lives in MySQL.
3. **MySQL** keeps one primary for writes and replicas for reads. A small manager watches them
   and promotes a replica when the primary dies.

Any Pi can be unplugged while you read this. Open the [cluster page](/cluster) to see which
instance served you and what the database looks like right now.`,
  },
  {
    kind: 'post',
    slug: 'the-hardware',
    title: 'The hardware',
    summary: 'Four Raspberry Pis, one switch, one power supply, and a lot of short cables.',
    tags: ['hardware', 'cluster'],
    daysAgo: 2,
    body: `The cluster is deliberately modest:

| Role | Board | Memory |
| --- | --- | --- |
| Balancer | Raspberry Pi 4 | 2 GB |
| App (×2) | Raspberry Pi 4 | 2 GB |
| Database | Raspberry Pi 4 | 4 GB |

They share a gigabit switch and a multi-port USB power supply, and boot from fast microSD cards.
Every service is written to fit comfortably in a 2 GB Pi: the app tier aims for less than
120 MB of memory per process while serving thousands of cached pages per second.

The Pis run Kubernetes. When one loses power, its pods are rescheduled and the balancer stops
sending it traffic within a few seconds.`,
  },
  {
    kind: 'post',
    slug: 'how-it-is-built-and-deployed',
    title: 'How it is built and deployed',
    summary: 'Three TypeScript services, multi-arch images, kustomize overlays.',
    tags: ['deployment', 'kubernetes'],
    daysAgo: 1,
    body: `The off-the-shelf parts of the original Dramble (nginx, Drupal, hand-run MySQL replication)
are replaced by three small TypeScript services:

- \`dramble-balancer\`: the edge proxy. It discovers app pods from Kubernetes EndpointSlices,
  health-checks them, caches anonymous pages for a few seconds and adds \`X-Served-By\`.
- \`dramble-app\`: this site, its editor and its JSON API.
- \`dramble-db-manager\`: watches every MySQL server, fails over and switches over, and publishes
  the topology to Redis so the apps follow it without a restart.

Each service is built into a multi-arch image (linux/arm64 and linux/arm/v7) and deployed with
kustomize; the \`pi\` overlay sets the limits that suit the boards.

Locally, \`npm start\` runs the whole stack as plain processes: a MariaDB primary and replica,
Redis, the db-manager, two app instances and the balancer on http://127.0.0.1:8080.`,
  },
  {
    kind: 'page',
    slug: 'about',
    title: 'About this site',
    summary: 'Who runs the Dramble and why.',
    tags: [],
    daysAgo: 3,
    body: `This site exists to show that a tiny cluster can serve a real website reliably: pages stay
readable while a database server fails over, and an app instance can be killed at any moment.

The editor lives at [/editor](/editor) (you need an account), and the content is also available
through a JSON API under \`/api/v1\`. News arrives in the [Atom feed](/feed.xml).`,
  },
];

export async function seedStarterSite(sql: Sql): Promise<void> {
  for (const s of STARTER_SITE) {
    const res = await sql.exec(
      `INSERT INTO content (kind, slug, title, summary, body_md, body_html, status, created_at, updated_at, published_at)
       VALUES (?, ?, ?, ?, ?, ?, 'published', NOW(3) - INTERVAL ? DAY, NOW(3) - INTERVAL ? DAY, NOW(3) - INTERVAL ? DAY)`,
      [s.kind, s.slug, s.title, s.summary, s.body, await renderMarkdown(s.body), s.daysAgo, s.daysAgo, s.daysAgo],
    );
    for (const t of s.tags) await sql.exec('INSERT INTO content_tags (content_id, tag) VALUES (?, ?)', [res.insertId, t]);
  }
}
