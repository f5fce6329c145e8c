// TLS from cert/key files, reloaded when either file changes (certbot/cert-manager renewals) via
// server.setSecureContext: existing connections keep their session, new ones get the new cert.
import { readFileSync, statSync } from 'node:fs';
import type https from 'node:https';
import type { Logger } from '@dramble/lib';

export interface TlsFiles {
  cert: string;
  key: string;
}

export function readTls(files: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

function stamp(files: TlsFiles): string {
  try {
    const c = statSync(files.cert);
    const k = statSync(files.key);
    return `${c.mtimeMs}:${c.size}:${k.mtimeMs}:${k.size}`;
  } catch {
    return '';
  }
}

/** Polls the files (fs.watch misses atomic renames on some filesystems); returns a stop function. */
export function watchTls(server: https.Server, files: TlsFiles, intervalMs: number, logger: Logger): () => void {
  let last = stamp(files);
  const timer = setInterval(() => {
    const now = stamp(files);
    if (now === last || now === '') return;
    try {
      server.setSecureContext(readTls(files));
      last = now;
      logger.info({ cert: files.cert }, 'TLS certificate reloaded');
    } catch (err) {
      // A half-written pair (new cert, old key) fails here; the next poll tries again.
      logger.warn({ err, cert: files.cert }, 'TLS certificate reload failed; keeping the current one');
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
