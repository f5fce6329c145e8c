#!/usr/bin/env node
// Copies src/db/migrations/*.sql into src/db/migrations/embedded.ts, so the compiled dist/ (and the
// image, which ships dist/ only) carries them. Run after editing a .sql file:
//   node services/app/scripts/embed-migrations.mjs
// test/app/pure.test.ts fails when the embedded copy differs from the files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const dir = new URL('../src/db/migrations/', import.meta.url);
const files = readdirSync(dir).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
const entries = files.map((f) => `  { file: ${JSON.stringify(f)}, sql: ${JSON.stringify(readFileSync(new URL(f, dir), 'utf8'))} },`);
writeFileSync(
  new URL('embedded.ts', dir),
  `// Generated from the .sql files beside this one by services/app/scripts/embed-migrations.mjs; do not edit.\nexport const EMBEDDED_MIGRATIONS: ReadonlyArray<{ file: string; sql: string }> = [\n${entries.join('\n')}\n];\n`,
);
console.log(`embedded ${files.length} migration(s)`);
