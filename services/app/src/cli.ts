// Commands besides serving: `dramble-app create-admin --email x --password-file f [--name n]` and
// `dramble-app create-token --email x [--token-name n]` (prints a new API token).
import { readFileSync } from 'node:fs';
import { ConfigError, createLogger, loadConfig } from '@dramble/lib';
import { settings } from './config.js';
import { Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { parseMysqlUrl } from './db/mysql-url.js';
import { Users } from './auth/users.js';

const USAGE = `usage:
  dramble-app create-admin --email <email> --password-file <file> [--name <name>] [--role admin|editor] [--mysql-url ...]
  dramble-app create-token --email <email> [--token-name <name>] [--mysql-url ...]
The database is taken from --mysql-url or APP_MYSQL_URL; migrations are applied first.`;

function take(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(`--${flag}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
}

/** Runs a command; returns the exit status. */
export async function runCli(args: string[], io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  const [command, ...rest] = args;
  const argv = [...rest];
  if (command !== 'create-admin' && command !== 'create-token') {
    io.err(`${USAGE}\n`);
    return 2;
  }
  const email = take(argv, 'email');
  const passwordFile = take(argv, 'password-file');
  const name = take(argv, 'name');
  const role = take(argv, 'role') ?? 'admin';
  const tokenName = take(argv, 'token-name') ?? 'cli';
  if (!email || (command === 'create-admin' && !passwordFile) || (role !== 'admin' && role !== 'editor')) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  let mysqlUrl: string;
  let logLevel: string;
  try {
    ({ mysqlUrl, logLevel } = loadConfig({ mysqlUrl: settings.mysqlUrl, logLevel: settings.logLevel }, { argv }));
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`dramble-app: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ name: 'app-cli', level: logLevel === 'info' ? 'warn' : logLevel, pretty: false, destination: process.stderr });
  const { endpoint, credentials } = parseMysqlUrl(mysqlUrl, 'primary');
  await migrate({ endpoint, credentials, logger });
  const db = new Database({ credentials, primary: endpoint, replicas: [], logger, maxReplicaLagSeconds: 0, readYourWritesTimeoutMs: 0 });
  try {
    const users = new Users(db);
    if (command === 'create-admin') {
      const password = readFileSync(passwordFile!, 'utf8').replace(/\r?\n$/, '');
      const user = await users.create({ email, password, role, ...(name ? { name } : {}) });
      io.out(`created ${user.role} ${user.email} (id ${user.id})\n`);
    } else {
      const user = await users.findByEmail(email);
      if (!user) {
        io.err(`no user with email ${email}\n`);
        return 1;
      }
      io.out(`${await users.createToken(user.id, tokenName)}\n`);
    }
    return 0;
  } catch (err) {
    io.err(`dramble-app ${command}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
