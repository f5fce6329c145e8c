// Picks the dialect: configured, or detected from @@version.
import type { Flavor } from './types.js';
import { mariadb } from './mariadb.js';
import { mysql } from './mysql.js';

export type { Flavor, ReplicationStatus, ChangeSourceOptions } from './types.js';
export { mariadb, mysql };

export function flavorFor(setting: 'auto' | 'mariadb' | 'mysql', version?: string): Flavor {
  if (setting === 'mysql') return mysql;
  if (setting === 'mariadb') return mariadb;
  return version && !/mariadb/i.test(version) ? mysql : mariadb;
}
