// The shared library: only what all three services need.
export * from './logger.js';
export * from './metrics.js';
export * from './config.js';
export * from './admin-server.js';
export * from './admin-api.js';
export * from './shutdown.js';
export * from './listen.js';
export * from './timeout.js';
