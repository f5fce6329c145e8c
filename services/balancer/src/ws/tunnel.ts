// WebSocket (and other HTTP/1.1 Upgrade) tunnelling: the upgrade request goes to a backend chosen
// like any other request (a refused connect is retried on another backend: nothing was sent), the
// backend's 101 is relayed with X-Served-By, then bytes are piped both ways until either side closes.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@dramble/lib';
import type { BackendSet } from '../backends/backend-set.js';
import type { Strategy } from '../balancing/types.js';
import type { RequestContext } from '../request/context.js';
import { outgoingHeaders } from '../request/passes.js';
import { classify } from '../forward/classify.js';

export interface TunnelOptions {
  backends: BackendSet;
  strategy: () => Strategy;
  viaName: () => string;
  servedByHeader: () => string;
  connectTimeoutMs: () => number;
  retries: () => number;
  logger: Logger;
}

function rawResponse(status: number, reason: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}

export function createUpgradeHandler(options: TunnelOptions): (req: http.IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext) => void {
  return (req, socket, head, ctx) => {
    socket.on('error', () => socket.destroy());
    const headers = outgoingHeaders(req, ctx, { viaName: options.viaName() });
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = req.headers.upgrade ?? 'websocket';
    const tried = new Set<string>();

    const attempt = (): void => {
      const { backends } = options.backends.eligible(tried, Date.now(), false);
      const backend = backends.length > 0 ? options.strategy().pick(backends, {}) : undefined;
      if (!backend) {
        socket.end(rawResponse(tried.size > 0 ? 502 : 503, tried.size > 0 ? 'Bad Gateway' : 'Service Unavailable'));
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
        if (f.backendFault) backend.event({ type: 'request-fail', now: Date.now() });
        options.logger.debug({ err, backend: backend.id }, 'upgrade attempt failed');
        if (f.neverSent && tried.size <= options.retries() && !socket.destroyed) attempt();
        else socket.end(rawResponse(f.status, f.status === 504 ? 'Gateway Timeout' : 'Bad Gateway'));
      });
      proxyReq.on('response', (res) => {
        // The backend refused to upgrade: relay its answer as a plain response.
        let text = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
        for (let i = 0; i < res.rawHeaders.length; i += 2) text += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
        socket.write(`${text}${options.servedByHeader()}: ${backend.name}\r\n\r\n`);
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
        backendSocket.on('error', () => socket.destroy());
        const done = (): void => {
          backendSocket.destroy();
          socket.destroy();
        };
        backendSocket.once('close', done);
        socket.once('close', () => {
          backend.inFlight--;
          done();
        });
        backendSocket.pipe(socket);
        socket.pipe(backendSocket);
      });
      proxyReq.end();
    };
    attempt();
  };
}
