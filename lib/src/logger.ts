// One pino logger per process: JSON lines for machines, pretty output when a person watches a terminal.
import { pino, destination, stdTimeFunctions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, wherever a caller puts them. */
export const REDACTED_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'adminToken', '*.adminToken',
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
