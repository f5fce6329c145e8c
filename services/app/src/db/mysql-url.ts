// mysql://user:pass@host:port/db -> the endpoint and the credentials used for every host.
import type { Endpoint } from './topology.js';

export interface Credentials {
  user: string;
  password: string;
  database: string;
}

export function parseMysqlUrl(raw: string, id: string): { endpoint: Endpoint; credentials: Credentials } {
  const u = new URL(raw);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'dramble';
  return {
    endpoint: { id, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 3306 },
    credentials: { user: decodeURIComponent(u.username) || 'root', password: decodeURIComponent(u.password), database },
  };
}
