// What other tools and tests use from the app tier.
export { settings, type AppConfig } from './config.js';
export { createApp, createRequestListener, type AppDeps } from './app.js';
export { cacheableRoute, pageKey } from './routes/page-keys.js';
export { declaredHosts, hostVerdict, parseAuthority } from './routes/host-check.js';
export { notModified } from './routes/cached-hit.js';
export { computeSecurityHeaders } from './routes/security-headers.js';
export { startApp, type AppHandle, type StartOptions } from './start.js';
export { runCli } from './cli.js';
export { migrate, latestVersion, loadMigrations } from './db/migrate.js';
export { Database } from './db/database.js';
export { parseTopology, shouldApply, TOPOLOGY_KEY, TOPOLOGY_CHANNEL, type Topology } from './db/topology.js';
export { affectedTags } from './cache/affected-tags.js';
export { html, raw, escapeHtml, SafeHtml } from './render/html.js';
export { renderMarkdown } from './content/markdown.js';
export { hashPassword, verifyPassword } from './auth/password.js';
export { decideClaim, parseIdempotencyKey, requestHash } from './db/idempotency-rules.js';
