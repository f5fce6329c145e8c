// dramble-balancer: read config, start the balancer (or a primary and N cluster workers), wire signals.
// SIGHUP re-reads the config (file, env, flags) and applies it without dropping connections;
// SIGTERM/SIGINT drain in-flight requests within --shutdown-deadline-ms.
import cluster from 'node:cluster';
import { ConfigError, Shutdown, createLogger, loadConfigOrExit } from '@dramble/lib';
import { checkConfig, loadBalancerConfig, settings, type BalancerConfig } from './config.js';
import { startBalancer } from './server.js';
import { joinPrimary, runPrimary } from './cluster/primary.js';

function configOrExit(): BalancerConfig {
  const config = loadConfigOrExit('dramble-balancer', settings, { configFileEnv: 'BALANCER_CONFIG' });
  try {
    return checkConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dramble-balancer: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

const config = configOrExit();
const logger = createLogger({ name: 'balancer', level: config.logLevel });

if (config.workers > 1 && cluster.isPrimary) {
  runPrimary(config, logger);
} else {
  // A cluster worker's admin listener is private (the primary serves the configured one and passes calls on).
  const worker = cluster.isWorker;
  const balancer = await startBalancer(worker ? { ...config, admin: { host: '127.0.0.1', port: 0 } } : config, { logger, privateAdmin: worker });
  if (worker) joinPrimary(balancer.registry, balancer.adminAddress.port);
  process.on('SIGHUP', () => {
    try {
      balancer.reload(loadBalancerConfig());
    } catch (err) {
      logger.error({ err }, 'config reload failed; keeping the running configuration');
    }
  });
  const shutdown = new Shutdown({ logger, deadlineMs: config.shutdownDeadlineMs + 1000 });
  shutdown.addCloser('balancer', () => balancer.close(config.shutdownDeadlineMs));
  shutdown.install();
}
