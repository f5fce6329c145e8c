// `dramble` command-line parsing and port choice: the defaults a newcomer gets, and what happens
// when a port is taken.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { parse, parseDuration, UsageError, wantedPorts, assignPorts } from '@dramble/cli';

describe('dramble command line', () => {
  it('defaults to a primary with one replica, two apps and the balancer on 8080 under .dramble/', () => {
    const o = parse(['up']);
    assert.equal(o.command, 'up');
    assert.equal(o.dir, '.dramble');
    assert.equal(o.port, 8080);
    assert.equal(o.replicas, 1);
    assert.equal(o.apps, 2);
    assert.equal(o.basePort, undefined);
  });

  it('reads drill targets and load options', () => {
    assert.deepEqual(parse(['kill', 'primary', '--dir', '/tmp/x']).positionals, ['primary']);
    const l = parse(['load', '--rate', '200', '--duration', '2m']);
    assert.equal(l.rate, 200);
    assert.equal(l.duration, 120_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30'), 30_000);
  });

  it('refuses nonsense with a message naming the option', () => {
    assert.throws(() => parse(['up', '--apps', '0']), (e: Error) => e instanceof UsageError && /--apps/.test(e.message));
    assert.throws(() => parse(['up', '--duration', 'soon']), UsageError);
    assert.throws(() => parse(['frobnicate']), /unknown command/);
    assert.throws(() => parse(['up', '--mysql', 'mysql://u:p@h:3306/d']), /--redis/);
  });
});

describe('port choice', () => {
  const servers: net.Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  it('uses memorable fixed ports by default and keeps ports from an earlier run', () => {
    const w = wantedPorts({ port: 8080, replicas: 1, apps: 2 });
    const byKey = Object.fromEntries(w.map((r) => [r.key, r.wanted]));
    assert.equal(byKey['balancer'], 8080);
    assert.equal(byKey['dashboard'], 8079);
    assert.deepEqual(Object.keys(byKey).filter((k) => k.startsWith('mysql')), ['mysql-1', 'mysql-2']);
    assert.deepEqual(Object.keys(byKey).filter((k) => /^app-\d+$/.test(k)), ['app-1', 'app-2']);
    const again = wantedPorts({ port: 8080, replicas: 1, apps: 2 }, { 'mysql-1': 41000 });
    assert.equal(again.find((r) => r.key === 'mysql-1')?.wanted, 41000, 'replicas remember their primary by port');
    const based = wantedPorts({ port: 0, basePort: 20000, replicas: 2, apps: 3 });
    assert.equal(new Set(based.map((r) => r.wanted)).size, based.length, 'no two processes share a port');
  });

  it('moves a taken port to a free one, but refuses a taken --port', async () => {
    const srv = net.createServer();
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const taken = (srv.address() as net.AddressInfo).port;
    const { ports, moved } = await assignPorts([{ key: 'redis', wanted: taken }, { key: 'app-1', wanted: 0 }]);
    assert.notEqual(ports['redis'], taken);
    assert.ok(ports['redis']! > 0 && ports['app-1']! > 0);
    assert.deepEqual(moved, [`redis ${taken}`]);
    await assert.rejects(assignPorts([{ key: 'balancer', wanted: taken, strict: true }]), /already in use/);
  });
});
