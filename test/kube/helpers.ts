// Small helpers for the Kubernetes adapter tests.
import { fileURLToPath } from 'node:url';
import { createLogger } from '@dramble/lib';
import { spawnTracked, type KubeRequest, type Spawned } from '../support/index.js';

/** Polls until check() is true, failing with `what` after the deadline. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const quietLogger = createLogger({ name: 'kube-test', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

/** Starts test/kube/fixtures/elector.ts in its own process; `lines` collects what it prints. */
export function spawnElector(args: string[]): { spawned: Spawned; lines: string[] } {
  const fixture = fileURLToPath(new URL('./fixtures/elector.ts', import.meta.url));
  const spawned = spawnTracked(process.execPath, ['--conditions=dramble-src', '--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  spawned.child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { spawned, lines };
}

export interface RbacRule {
  apiGroup: string;
  resource: string;
  verbs: readonly string[];
}

/** Requests (as "group/resource verb") that the given RBAC rules would not allow. */
export function verbsOutside(requests: readonly KubeRequest[], rules: readonly RbacRule[]): string[] {
  const bad = new Set<string>();
  for (const r of requests) {
    const ok = rules.some((rule) => rule.apiGroup === r.group && rule.resource === r.resource && rule.verbs.includes(r.verb));
    if (!ok) bad.add(`${r.group}/${r.resource} ${r.verb}`);
  }
  return [...bad];
}
