// Real servers for tests. Everything started here is killed when the test process exits.
export * from './ports.js';
export * from './processes.js';
export * from './mariadb.js';
export * from './redis.js';
export * from './kube-api.js';
