// Informational (1xx) responses from a backend, forwarded to the client before the final one
// (RFC 9110 §15.2): 103 Early Hints with its fields (Link above all), 102 Processing. Never to an
// HTTP/1.0 client (§15.2 forbids it), never once the final head is out. A backend's 100 Continue
// cannot arrive here: undici treats an unsolicited 100 as a broken response, and Node answers a
// client's Expect: 100-continue itself.
import type { ServerResponse } from 'node:http';
import { responseHeaders } from '../request/hop-by-hop.js';

export function writeInterim(res: ServerResponse, status: number, raw: Buffer[]): void {
  if (res.headersSent || res.destroyed || res.req.httpVersion === '1.0') return;
  try {
    if (status === 103) res.writeEarlyHints(responseHeaders(raw));
    else if (status === 102) res.writeProcessing();
  } catch {
    // A field Node refuses (or no Link at all): the hint is optional, the final answer is not.
  }
}
