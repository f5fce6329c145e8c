// dramble-balancer: read config, start the balancer (or N cluster workers), wire signals.
// SIGHUP re-reads the config (file, env, flags) and applies it without dropping connections;
// SIGTERM/SIGINT drain in-flight requests within --shutdown-deadline-ms.
import cluster from 'node:cluster';
import { ConfigError, Shutdown, createLogger, loadConfigOrExit } from '@dramble/lib';
import { checkConfig, loadBalancerConfig, settings, type BalancerConfig } from './config.js';
import { startBalancer } from './server.js';

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
  // The primary only supervises: workers share the listening sockets (node:cluster round robin).
  let stopping = false;
  const fork = (): void => {
    cluster.fork();
  };
  for (let i = 0; i < config.workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting a new one');
    fork();
  });
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stopping = true;
      logger.info({ signal: sig }, 'stopping workers');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      setTimeout(() => process.exit(1), config.shutdownDeadlineMs + 2000).unref();
    });
  }
} else {
  const balancer = await startBalancer(config, { logger });
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
