// Row events (binlog_format ROW/MIXED) show no SQL in SHOW BINLOG EVENTS: mariadb-binlog reads the
// same range from the server and prints the rows as commented pseudo-SQL (--verbose).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { errorText, type Target } from '../probe/connection.js';
import { connectArgs, withOptionsFile } from './client-tools.js';
import type { RecoveryContext } from './context.js';

const MARIADB_BINLOG = ['/usr/bin/mariadb-binlog', '/usr/bin/mysqlbinlog'].find((p) => existsSync(p));

/** The decoded text, or a line saying why there is none (never throws: the export goes on without it). */
export async function decodeRowEvents(ctx: RecoveryContext, inst: Target, file: string, startPos: number, endPos: number): Promise<string | undefined> {
  if (!MARIADB_BINLOG) return '(mariadb-binlog is not installed: row events not decoded)';
  return withOptionsFile(ctx.creds, (opts) =>
    new Promise<string>((resolve) => {
      const args = [...connectArgs(opts, inst), '--read-from-remote-server', '--base64-output=DECODE-ROWS', '--verbose', `--start-position=${startPos}`, `--stop-position=${endPos}`, file];
      execFile(MARIADB_BINLOG, args, { timeout: ctx.statementTimeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) resolve(`(mariadb-binlog failed: ${errorText(err)} ${String(stderr).trim()})`);
        else resolve(String(stdout).split('\n').filter((l) => l.startsWith('###') || /^(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(l)).join('\n'));
      });
    }),
  );
}
