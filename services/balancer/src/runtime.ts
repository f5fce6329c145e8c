// Everything the request path derives from the config, built in one place: at start and again on
// each reload (the whole object replaced, nothing diffed setting by setting). Live state that
// must outlive a reload (per-client counts, rate-limit buckets when the rate is unchanged, a
// stateful strategy when it is unchanged) is handed over from the previous runtime.
import { createStrategy, type Strategy } from './balancing/index.js';
import { createCompressor } from './compression/index.js';
import type { BalancerConfig } from './config.js';
import type { ForwardSettings } from './forward/forwarding.js';
import { createRateLimiter, type RateLimiter } from './rate-limit/index.js';
import type { AdmitRuntime } from './request/admit.js';
import type { ClientTally } from './request/client-tally.js';
import { ServerNames } from './request/server-names.js';
import { TrustedProxies } from './request/trusted-proxies.js';
import type { ResponsePassOptions } from './response/passes.js';

export interface Runtime {
  config: BalancerConfig;
  strategy: Strategy;
  trusted: TrustedProxies;
  forwardSettings: ForwardSettings;
  responseOptions: ResponsePassOptions;
  compressor: ReturnType<typeof createCompressor>;
  admit: AdmitRuntime;
  maxConnectionsPerClient: number;
}

export interface RuntimeInputs {
  tally: ClientTally;
  /** Whether active health checks run (the forwarder then leaves passive ejection to them). */
  activeChecks: boolean;
  /** The ports the public and redirect listeners are bound to (Host may carry them). */
  boundPorts: readonly number[];
}

export function buildRuntime(config: BalancerConfig, inputs: RuntimeInputs, previous?: Runtime): Runtime {
  const prev = previous?.config;
  const limiter: RateLimiter =
    previous && prev && prev.rateLimitRps === config.rateLimitRps && prev.rateLimitBurst === config.rateLimitBurst ? previous.admit.limiter : createRateLimiter(config);
  return {
    config,
    strategy: previous && prev && prev.strategy === config.strategy ? previous.strategy : createStrategy(config.strategy),
    trusted: new TrustedProxies(config.trustedProxies),
    forwardSettings: {
      retries: config.retries,
      hashOn: config.strategy === 'hash' ? config.hashOn : undefined,
      viaName: config.viaName,
      maxBodySize: config.maxBodySize,
      activeChecks: inputs.activeChecks,
      failStatuses: config.failStatuses,
    },
    responseOptions: { viaName: config.viaName, servedByHeader: config.servedByHeader, hstsMaxAge: config.hsts },
    compressor: createCompressor(config),
    admit: {
      serverNames: new ServerNames({ names: config.serverName, ports: [...inputs.boundPorts, config.listen.port, config.httpsPublicPort], listenHost: config.listen.host }),
      limiter,
      maxBodySize: config.maxBodySize,
      maxInFlightPerClient: config.maxInFlightPerClient,
      maxLongLived: config.maxLongLived,
      maxLongLivedPerClient: config.maxLongLivedPerClient,
      upgradeProtocols: new Set(config.upgradeProtocols.map((p) => p.toLowerCase())),
      tally: inputs.tally,
    },
    maxConnectionsPerClient: config.maxConnectionsPerClient,
  };
}
