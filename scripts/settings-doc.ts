// Writes each service's settings table into README.md between its markers, from the same
// settings objects the services read, so the documentation cannot drift from the code.
// Usage: node --conditions=dramble-src --import tsx scripts/settings-doc.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdown, type Settings } from '@dramble/lib';
import { settings as balancer } from '../services/balancer/src/config.js';
import { settings as app } from '../services/app/src/config.js';
import { settings as dbManager } from '../services/db-manager/src/config.js';

export const SERVICE_SETTINGS: Record<string, Settings> = { balancer, app, 'db-manager': dbManager };

export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, s] of Object.entries(SERVICE_SETTINGS)) {
    const start = `<!-- settings:${name}:start -->`;
    const end = `<!-- settings:${name}:end -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`README.md lacks the markers ${start} ... ${end}`);
    out = `${out.slice(0, i + start.length)}\n${settingsMarkdown(s)}\n${out.slice(j)}`;
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const path = new URL('../README.md', import.meta.url).pathname;
  const current = readFileSync(path, 'utf8');
  const next = renderReadme(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md settings tables are out of date: run npm run docs');
      process.exit(1);
    }
  } else {
    writeFileSync(path, next);
  }
}
