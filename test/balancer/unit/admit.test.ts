// The admission passes as plain functions over a request's head: the order decides what a refused
// request costs the client (a request refused for its Host or its caps spends no rate-limit token).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { admit, ClientTally, createRateLimiter, headerFacts, REQUEST_PASSES, ServerNames, UPGRADE_PASSES, type AdmitRuntime, type RequestContext } from '@dramble/balancer';

/** The parts of a request head the passes read. */
function head(url: string, raw: string[]): { req: IncomingMessage; ctx: RequestContext } {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  const req = { url, rawHeaders: raw, headers, httpVersion: '1.1' } as unknown as IncomingMessage;
  const ctx = { clientIp: '192.0.2.1', proto: 'http', headers: headerFacts(raw), error: undefined } as unknown as RequestContext;
  return { req, ctx };
}

function runtime(overrides: Partial<AdmitRuntime> = {}): AdmitRuntime {
  return {
    serverNames: new ServerNames({ names: ['site.example'], ports: [8080] }),
    limiter: createRateLimiter({ rateLimitRps: 0.001, rateLimitBurst: 2 }),
    maxBodySize: 1000,
    maxInFlightPerClient: 2,
    maxLongLived: 10,
    maxLongLivedPerClient: 1,
    upgradeProtocols: new Set(['websocket']),
    tally: new ClientTally(),
    ...overrides,
  };
}

describe('admission passes', () => {
  it('refuses a foreign Host before the rate limit, so it spends no token', () => {
    const rt = runtime();
    for (let i = 0; i < 5; i++) {
      const { req, ctx } = head('/', ['Host', 'evil.example']);
      assert.equal(admit(REQUEST_PASSES, req, ctx, rt)?.status, 421);
    }
    const ok = head('/', ['Host', 'site.example']);
    assert.equal(admit(REQUEST_PASSES, ok.req, ok.ctx, rt), undefined, 'the client still has its burst');
  });

  it('reduces absolute-form to origin-form and checks its authority as the Host', () => {
    const rt = runtime();
    const a = head('http://Site.Example:80/feed.xml?x=1', ['Host', 'evil.example']);
    assert.equal(admit(REQUEST_PASSES, a.req, a.ctx, rt), undefined);
    assert.equal(a.req.url, '/feed.xml?x=1');
    assert.equal(a.ctx.headers.host, 'site.example');
    assert.deepEqual(a.req.rawHeaders, ['Host', 'site.example']);
    const b = head('http://evil.example/feed.xml', ['Host', 'site.example']);
    assert.equal(admit(REQUEST_PASSES, b.req, b.ctx, rt)?.status, 421);
    const c = head('http://user@site.example/', ['Host', 'site.example']);
    assert.equal(admit(REQUEST_PASSES, c.req, c.ctx, rt)?.status, 400);
  });

  it('refuses by the client\'s in-flight count and long-lived count', () => {
    const rt = runtime({ limiter: createRateLimiter({ rateLimitRps: 0, rateLimitBurst: 1 }) });
    rt.tally.inFlight.inc('192.0.2.1');
    rt.tally.inFlight.inc('192.0.2.1');
    const r = head('/', ['Host', 'site.example']);
    assert.deepEqual(admit(REQUEST_PASSES, r.req, r.ctx, rt)?.reason, 'client-in-flight');
    rt.tally.inFlight.dec('192.0.2.1');
    rt.tally.longLived.inc('192.0.2.1');
    const u = head('/ws', ['Host', 'site.example', 'Upgrade', 'websocket', 'Connection', 'Upgrade']);
    assert.equal(admit(UPGRADE_PASSES, u.req, u.ctx, rt)?.reason, 'client-long-lived');
    rt.tally.longLived.dec('192.0.2.1');
    assert.equal(admit(UPGRADE_PASSES, u.req, u.ctx, rt), undefined);
    const h2c = head('/', ['Host', 'site.example', 'Upgrade', 'h2c', 'Connection', 'Upgrade']);
    assert.equal(admit(UPGRADE_PASSES, h2c.req, h2c.ctx, rt)?.reason, 'upgrade-protocol');
  });
});
