// The edge cache: what the balancer's core and tests use.
export { createCacheLayer, type CacheLayer, type CacheLayerConfig, type CacheLayerDeps, type CacheStats, type PurgeRequest, type CacheResult, type CacheRoute } from './layer.js';
export { cacheAdminRoutes, purgeRequestSchema } from './admin.js';
export { cacheSettings, type CacheSettings } from './settings.js';
