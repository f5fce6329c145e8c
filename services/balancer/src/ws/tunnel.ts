// WebSocket (and other allowed HTTP/1.1 Upgrade) tunnelling, after admission (request/admit.ts):
// the upgrade request goes to a backend chosen like any other request (a refused connect is
// retried on another backend: nothing was sent), the backend's 101 is relayed with X-Served-By,
// then bytes are piped both ways until either side closes or the tunnel sits idle too long.
// A backend that answers anything but 101 has its answer relayed as a plain response.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@dramble/lib';
import type { BackendSet } from '../backends/backend-set.js';
import type { Strategy } from '../balancing/types.js';
import type { RequestContext } from '../request/context.js';
import { HOP_BY_HOP, connectionTokens } from '../request/hop-by-hop.js';
import { outgoingHeaders } from '../request/passes.js';
import { classify } from '../forward/classify.js';

export interface TunnelOptions {
  backends: BackendSet;
  strategy: () => Strategy;
  viaName: () => string;
  servedByHeader: () => string;
  connectTimeoutMs: () => number;
  /** A tunnel with no bytes either way for this long is closed. */
  idleTimeoutMs: () => number;
  retries: () => number;
  logger: Logger;
}

/** Told once when the upgrade is over: the status the client got, and whether it ended cleanly. */
export type TunnelDone = (status: number, completed: boolean) => void;

export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext, done: TunnelDone) => void;

function rawResponse(status: number, reason: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}

/** A backend's non-101 head without hop-by-hop fields (RFC 9110 §7.6.1); the body is then delimited by the close. */
export function relayedHead(res: http.IncomingMessage, servedBy: string, backendName: string): string {
  const raw = res.rawHeaders;
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'connection') connection = connection === undefined ? raw[i + 1] : `${connection}, ${raw[i + 1]}`;
  const named = connectionTokens(connection);
  let text = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    // Node has decoded any chunked framing; the body goes on as it arrives, ended by the close.
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return `${text}${servedBy}: ${backendName}\r\nconnection: close\r\n\r\n`;
}

export function createUpgradeHandler(options: TunnelOptions): UpgradeHandler {
  return (req, socket, head, ctx, done) => {
    let reported = false;
    const report = (status: number, completed: boolean): void => {
      if (reported) return;
      reported = true;
      done(status, completed);
    };
    const refuse = (status: number, reason: string): void => {
      socket.end(rawResponse(status, reason));
      report(status, false);
    };
    socket.on('error', () => socket.destroy());
    // Set once the tunnel is up: the client's close then also closes the backend side.
    let tunnel: { close(): void; idle: boolean } | undefined;
    socket.once('close', () => {
      if (tunnel === undefined) {
        // Left while the backend was being reached or its refusal relayed: still reported (and uncounted).
        report(0, false);
        return;
      }
      tunnel.close();
      report(101, !tunnel.idle);
    });
    const headers = outgoingHeaders(req, ctx, { viaName: options.viaName() });
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = req.headers.upgrade ?? 'websocket';
    const tried = new Set<string>();

    const attempt = (): void => {
      const { backends } = options.backends.eligible(tried, Date.now(), false);
      const backend = backends.length > 0 ? options.strategy().pick(backends, {}) : undefined;
      if (!backend) {
        if (tried.size > 0) refuse(502, 'Bad Gateway');
        else refuse(503, 'Service Unavailable');
        return;
      }
      tried.add(backend.id);
      const proxyReq = http.request({
        host: backend.origin.hostname,
        port: backend.origin.port || 80,
        method: req.method,
        path: req.url,
        headers,
        agent: false,
        timeout: options.connectTimeoutMs(),
      });
      let upgraded = false;
      proxyReq.on('timeout', () => proxyReq.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })));
      proxyReq.on('error', (err) => {
        if (upgraded) return;
        const f = classify(err);
        if (f.backendFault) options.backends.failed(backend, Date.now());
        options.logger.debug({ err, backend: backend.id }, 'upgrade attempt failed');
        if (f.neverSent && tried.size <= options.retries() && !socket.destroyed) attempt();
        else refuse(f.status, f.status === 504 ? 'Gateway Timeout' : 'Bad Gateway');
      });
      proxyReq.on('response', (res) => {
        // The backend refused to upgrade: relay its answer as a plain response, then close.
        ctx.backend = backend.name;
        proxyReq.setTimeout(0);
        socket.write(relayedHead(res, options.servedByHeader(), backend.name));
        res.on('end', () => report(res.statusCode ?? 0, true));
        res.on('error', () => socket.destroy());
        res.pipe(socket);
      });
      proxyReq.on('upgrade', (res, backendSocket, backendHead) => {
        upgraded = true;
        proxyReq.setTimeout(0);
        backend.event({ type: 'request-ok', now: Date.now() });
        backend.inFlight++;
        ctx.backend = backend.name;
        let text = 'HTTP/1.1 101 Switching Protocols\r\n';
        for (let i = 0; i < res.rawHeaders.length; i += 2) text += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
        socket.write(`${text}${options.servedByHeader()}: ${backend.name}\r\n\r\n`);
        if (backendHead.length > 0) socket.write(backendHead);
        if (head.length > 0) backendSocket.write(head);
        // Reads and writes on either socket restart its timer; bytes either way pass through both.
        const idleMs = options.idleTimeoutMs();
        const up = {
          idle: false,
          close(): void {
            backendSocket.destroy();
            socket.destroy();
          },
        };
        tunnel = up;
        const onIdle = (): void => {
          up.idle = true;
          ctx.error = 'tunnel idle timeout';
          up.close();
        };
        (socket as Socket).setTimeout(idleMs, onIdle);
        backendSocket.setTimeout(idleMs, onIdle);
        backendSocket.on('error', () => socket.destroy());
        backendSocket.once('close', () => {
          backend.inFlight--;
          up.close();
        });
        backendSocket.pipe(socket);
        socket.pipe(backendSocket);
      });
      proxyReq.end();
    };
    attempt();
  };
}
