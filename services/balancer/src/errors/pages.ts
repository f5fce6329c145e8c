// Small error pages for answers the balancer gives itself (400/404/413/421/431/429/502/503/504):
// JSON when the client prefers it, plain HTML otherwise; 503 carries Retry-After.
import type { IncomingMessage, ServerResponse } from 'node:http';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Content Too Large',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const EXPLANATIONS: Record<number, string> = {
  502: 'The site could not be reached just now. Please try again in a moment.',
  503: 'The site is briefly unavailable. Please try again in a moment.',
  504: 'The site took too long to answer. Please try again in a moment.',
};

export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const a = accept.toLowerCase();
  const json = a.indexOf('application/json');
  const html = a.indexOf('text/html');
  return json >= 0 && (html < 0 || json < html);
}

export interface ErrorPageOptions {
  requestId?: string;
  retryAfterSeconds?: number;
  detail?: string;
  /** Close the connection after the page (e.g. an unread request body remains). */
  close?: boolean;
}

export function renderError(status: number, accept: string | undefined, opts: ErrorPageOptions = {}): { headers: Record<string, string>; body: string } {
  const title = TITLES[status] ?? 'Error';
  const message = opts.detail ?? EXPLANATIONS[status] ?? title;
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  let body: string;
  if (wantsJson(accept)) {
    headers['content-type'] = 'application/json; charset=utf-8';
    body = JSON.stringify({ error: title, status, message, ...(opts.requestId ? { requestId: opts.requestId } : {}) });
  } else {
    headers['content-type'] = 'text/html; charset=utf-8';
    const rid = opts.requestId ? `<p><small>Request id: ${escapeHtml(opts.requestId)}</small></p>` : '';
    body = `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${title}</title></head><body><h1>${status} ${title}</h1><p>${escapeHtml(message)}</p>${rid}</body></html>\n`;
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  if (opts.retryAfterSeconds !== undefined) headers['retry-after'] = String(opts.retryAfterSeconds);
  if (opts.requestId) headers['x-request-id'] = opts.requestId;
  if (opts.close) headers['connection'] = 'close';
  return { headers, body };
}

export function sendError(req: IncomingMessage, res: ServerResponse, status: number, opts: ErrorPageOptions = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { headers, body } = renderError(status, req.headers.accept, { ...opts, ...(status === 503 && opts.retryAfterSeconds === undefined ? { retryAfterSeconds: 5 } : {}) });
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The same page as raw HTTP/1.1 bytes, for a socket that has no ServerResponse (a refused upgrade); closes the connection. */
export function rawError(status: number, accept: string | undefined, opts: ErrorPageOptions = {}): string {
  const { headers, body } = renderError(status, accept, { ...opts, close: true, ...(status === 503 && opts.retryAfterSeconds === undefined ? { retryAfterSeconds: 5 } : {}) });
  let head = `HTTP/1.1 ${status} ${TITLES[status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return `${head}\r\n${body}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
