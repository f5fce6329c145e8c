// Running the MariaDB client tools (mariadb-dump, mariadb, mariadb-binlog) without putting a
// password in argv, where any user on the host can read it: the credentials go into a 0600 options
// file passed as --defaults-extra-file, removed when the tool has finished.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Credentials, Target } from '../probe/connection.js';

/** Escapes a value for a my.cnf option file (double-quoted; backslash and quote escaped). */
function optionValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function withOptionsFile<T>(creds: Credentials, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'dramble-dbm-'));
  const path = join(dir, 'client.cnf');
  writeFileSync(path, `[client]\nuser=${optionValue(creds.user)}\npassword=${optionValue(creds.password)}\n`, { mode: 0o600 });
  try {
    return await fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The arguments every tool takes first: the options file (must come first), then where to connect over TCP. */
export function connectArgs(optionsFile: string, t: Target): string[] {
  return [`--defaults-extra-file=${optionsFile}`, '--protocol=TCP', `--host=${t.host}`, `--port=${t.port}`];
}
