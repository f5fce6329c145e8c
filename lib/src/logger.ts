// One pino logger per process: JSON lines for machines, pretty output when a person watches a terminal.
import { pino, destination, stdTimeFunctions, symbols as pinoSymbols, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, wherever a caller puts them. */
export const REDACTED_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'adminToken', '*.adminToken',
  'purgeToken', '*.purgeToken', 'drainToken', '*.drainToken',
  'authorization', '*.authorization', 'headers.authorization', 'headers.cookie', '*.headers.authorization',
  '*.headers.cookie', 'req.headers.authorization', 'req.headers.cookie', 'url', '*.url',
];

export interface LoggerSettings {
  name: string;
  level?: string;
  /** Force pretty (true) or JSON (false); default: pretty only when stdout is a terminal. */
  pretty?: boolean;
  /** Where JSON lines go; default stdout. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid, service: settings.name },
    timestamp: stdTimeFunctions.isoTime,
  };
  const pretty = settings.pretty ?? (process.stdout.isTTY === true && process.env['NODE_ENV'] !== 'production');
  if (settings.destination) return pino(options, settings.destination as DestinationStream);
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  }
  return pino(options, destination({ sync: false }));
}

/** Writes pre-built JSON lines in the logger's own format, for hot paths (see lineWriter). */
export interface LineWriter {
  /** Whether `level` lines are written now (follows the logger's level). */
  enabled(): boolean;
  /** Writes `{"level":..,"time":..,<the logger's bindings>,<fields>}`; `fields` is `"k":v,...` JSON. */
  write(fields: string): void;
}

/**
 * A writer of pre-serialised lines that come out exactly like `logger[level]({...})` would write
 * them (same level number, time, pid/service/name and child bindings, same destination), for a
 * caller that logs one line per request with fixed keys: building the JSON by hand costs about a
 * quarter of pino's generic serialisation. Redaction does not apply: pass no secrets.
 */
export function lineWriter(logger: Logger, level: 'info' | 'debug' = 'info'): LineWriter {
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[pinoSymbols.streamSym] as { write(line: string): void };
  const bindings = internals[pinoSymbols.chindingsSym] as string;
  const time = internals[pinoSymbols.timeSym] as () => string;
  const prefix = `{"level":${logger.levels.values[level]}`;
  return {
    enabled: () => logger.isLevelEnabled(level),
    write(fields) {
      stream.write(`${prefix}${time()}${bindings},${fields}}\n`);
    },
  };
}
