// dramble-db-manager: read config once, start the manager and its admin listener, stop on SIGTERM.
import { createLogger, loadConfigOrExit, Shutdown } from '@dramble/lib';
import { settings } from './config.js';
import { startManager } from './index.js';
import { collectLoadingGarbage, startPeriodicGc } from './memory.js';
import { optionalParts } from './wiring.js';

const config = loadConfigOrExit('dramble-db-manager', settings);
const logger = createLogger({ name: 'db-manager', level: config.logLevel });
const shutdown = new Shutdown({ logger, deadlineMs: config.shutdownDeadlineMs });
shutdown.install();
collectLoadingGarbage();
try {
  const parts = await optionalParts(config, logger);
  const running = await startManager(config, parts.deps);
  parts.attach(running.manager);
  shutdown.onStart(() => running.admin.markShuttingDown());
  shutdown.addCloser('manager', () => running.close());
  shutdown.addCloser('election client and pod follower', () => parts.close());
  shutdown.addCloser('periodic gc', startPeriodicGc(running.manager.waitTicks(1)));
  logger.info({ admin: running.adminUrl, instances: running.manager.options.instances.map((i) => i.id), election: config.election }, 'db-manager started');
} catch (err) {
  logger.fatal({ err }, 'db-manager failed to start');
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}
