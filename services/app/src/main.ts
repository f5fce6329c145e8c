// dramble-app: serves the site (default), or runs a command (create-admin, create-token).
import { createLogger, loadConfigOrExit, Shutdown } from '@dramble/lib';
import { settings } from './config.js';
import { runCli } from './cli.js';
import { startApp } from './start.js';

const args = process.argv.slice(2);
if (args[0] === 'create-admin' || args[0] === 'create-token') {
  process.exitCode = await runCli(args);
} else {
  const config = loadConfigOrExit('dramble-app', settings);
  const logger = createLogger({ name: 'app', level: config.logLevel });
  try {
    const app = await startApp(config, { logger });
    const shutdown = new Shutdown({ logger, deadlineMs: config.shutdownDeadlineMs });
    shutdown.onStart(() => app.close());
    shutdown.install();
  } catch (err) {
    logger.fatal({ err }, 'app failed to start');
    logger.flush();
    setTimeout(() => process.exit(1), 100);
  }
}
