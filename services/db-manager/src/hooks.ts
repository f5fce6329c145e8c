// The optional hook command: run once per significant event with the event in its environment
// (DRAMBLE_EVENT=failover, DRAMBLE_EVENT_JSON={...}); its failure is logged, never fatal.
import { spawn } from 'node:child_process';
import type { Logger } from '@dramble/lib';
import type { ManagerEvent } from './events.js';

const HOOKED = new Set(['failover', 'switchover', 'rejoin', 'fence', 'quarantine']);

export function createHookRunner(command: string | undefined, logger: Logger, timeoutMs = 30_000): (e: ManagerEvent) => void {
  if (!command) return () => undefined;
  return (e) => {
    if (!HOOKED.has(e.type)) return;
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', env: { ...process.env, DRAMBLE_EVENT: e.type, DRAMBLE_EVENT_JSON: JSON.stringify(e) } });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    timer.unref();
    child.on('error', (err) => logger.warn({ err: err.message, event: e.type }, 'hook command could not start'));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) logger.warn({ code, signal, event: e.type }, 'hook command failed');
    });
  };
}
