// undici's Pool without undici's index. The index eagerly loads fetch, WebSocket, EventSource,
// the HTTP cache and more: about 9 MB of resident memory a proxy never uses (measured: 61 MB vs
// 52 MB RSS after import). undici has no "exports" map, so the internal path is public in
// practice; package.json keeps undici on major 7, and test/balancer exercises this import.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
