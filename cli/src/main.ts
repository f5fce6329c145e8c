// The `dramble` command: a local cluster (up/down/reset), its status, and failure drills.
import { parse, USAGE, UsageError } from './args.js';
import { NoClusterError } from './commands/common.js';
import { down } from './commands/down.js';
import { kill } from './commands/kill.js';
import { load } from './commands/load.js';
import { reset } from './commands/reset.js';
import { restart } from './commands/restart.js';
import { status } from './commands/status.js';
import { rebuild } from './commands/rebuild.js';
import { switchover } from './commands/switchover.js';
import { up } from './commands/up.js';
import { say } from './output.js';

async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  const target = o.positionals[0];
  switch (o.command) {
    case 'help':
      say(USAGE);
      return 0;
    case 'up':
      return up(o, say);
    case 'down':
      return down(o.dir, say);
    case 'reset':
      return reset(o.dir, say);
    case 'status':
      return status(o.dir, o.json, say);
    case 'kill':
      return kill(o.dir, target, say);
    case 'restart':
      return restart(o.dir, target, say);
    case 'switchover':
      return switchover(o.dir, target, say);
    case 'rebuild':
      return rebuild(o.dir, target, say);
    case 'load':
      return load(o, say);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`dramble: ${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    // Known failures (no cluster, port taken, service refused) read best as one message; DEBUG=1 adds the stack.
    const e = err as Error;
    process.stderr.write(`dramble: ${process.env['DEBUG'] ? (e.stack ?? String(e)) : e instanceof NoClusterError ? e.message : (e.message ?? String(e))}\n`);
    process.exit(1);
  },
);
