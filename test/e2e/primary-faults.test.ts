// The db-manager's "hung primary" issue, end to end on `dramble up`: six careful API clients write
// posts through the balancer (each with an Idempotency-Key, retried with the same key after
// Retry-After) while the MySQL primary is SIGSTOPped for 12 s and woken, and, on a fresh cluster,
// SIGKILLed. What a user relies on: writes are accepted again within 6 s, no acknowledged write is
// lost, the woken old primary is read-only within 2 s and acknowledges nothing, and retries never
// write twice. Two clusters (one per fault) because a second automatic failover within the
// manager's 60 s cooldown is refused by design; the whole file takes about 2 minutes.
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  carefulWriters, currentPrimary, editorApiToken, killLeftovers, mysqlDirect, startCluster, until, writeProbe,
  type ClusterProcess, type RunningCluster, type WriterReport,
} from './helpers.js';

const ACCEPT_AGAIN_MS = 6000;
const READ_ONLY_AFTER_WAKE_MS = 2000;
const HANG_MS = 12_000;
const MAX_REQUEST_MS = 6000;

interface Drill {
  faultAt: number;
  oldPrimary: ClusterProcess;
  newPrimary: ClusterProcess | undefined;
  clients: WriterReport;
  probe: WriterReport;
  /** slug -> title of every row with the drill's prefix on the final primary. */
  rows: Map<string, string>;
  /** idem_key -> state of the drill's keys in idempotency_keys on the final primary. */
  keyStates: Map<string, string>;
}

process.once('exit', () => killLeftovers());

async function setUp(): Promise<{ c: RunningCluster; token: string; primary: ClusterProcess }> {
  const c = await startCluster();
  try {
    const token = await editorApiToken(c.site, c.credentials.adminEmail, c.credentials.adminPassword);
    // A replica must be attached and healthy before the fault, or there is nothing to fail over to.
    const primary = await until('a primary with a healthy replica', 30_000, async () => {
      const p = await currentPrimary(c);
      const dbm = c.cluster.processes.find((x) => x.role === 'db-manager')!;
      const t = (await (await fetch(`${dbm.adminUrl}/api/topology`)).json()) as { instances: Array<{ role: string; healthy?: boolean; lagSeconds?: number | null }> };
      return p && t.instances.some((i) => /replica/i.test(i.role) && i.healthy !== false && typeof i.lagSeconds === 'number') ? p : undefined;
    }, 250);
    return { c, token, primary };
  } catch (err) {
    await c.stop();
    throw err;
  }
}

/** Reads the drill's rows and idempotency keys from the server the db-manager names primary now. */
async function finalState(c: RunningCluster, prefix: string): Promise<Pick<Drill, 'newPrimary' | 'rows' | 'keyStates'>> {
  const newPrimary = await until('the db-manager to name a primary', 20_000, () => currentPrimary(c), 250);
  const conn = await mysqlDirect(c, newPrimary.port);
  try {
    const [rows] = await conn.query('SELECT slug, title FROM content WHERE slug LIKE ?', [`${prefix}-%`]);
    const [keys] = await conn.query('SELECT idem_key, state FROM idempotency_keys WHERE idem_key LIKE ?', [`${prefix}-%`]);
    return {
      newPrimary,
      rows: new Map((rows as Array<{ slug: string; title: string }>).map((r) => [r.slug, r.title])),
      keyStates: new Map((keys as Array<{ idem_key: string; state: string }>).map((k) => [k.idem_key, k.state])),
    };
  } finally {
    await conn.end();
  }
}

function figures(d: Drill) {
  const all = [...d.clients.attempts, ...d.probe.attempts];
  const acceptedAgain = all.filter((a) => a.status === 201 && a.startedAt >= d.faultAt).map((a) => a.endedAt - d.faultAt);
  const acked = [...d.clients.keys, ...d.probe.keys].filter((k) => k.ackedAt !== undefined);
  const lost = acked.filter((k) => d.rows.get(k.slug) === undefined || !d.rows.get(k.slug)!.endsWith(k.key));
  const afterFault = all.filter((a) => a.startedAt >= d.faultAt - 1000);
  return {
    acceptedAgainMs: acceptedAgain.length > 0 ? Math.min(...acceptedAgain) : Infinity,
    clientsAcceptedAgainMs: Math.min(Infinity, ...d.clients.attempts.filter((a) => a.status === 201 && a.startedAt >= d.faultAt).map((a) => a.endedAt - d.faultAt)),
    acked,
    lost,
    broken: d.clients.keys.filter((k) => k.broken !== undefined),
    unresolved: d.clients.keys.filter((k) => k.ackedAt === undefined && k.broken === undefined),
    retries: d.clients.attempts.length - d.clients.keys.length,
    replayed: d.clients.attempts.filter((a) => a.replayed).length,
    maxRequestMs: Math.max(0, ...afterFault.map((a) => a.endedAt - a.startedAt)),
    statuses: afterFault.reduce<Record<string, number>>((m, a) => ((m[a.status || 'error'] = (m[a.status || 'error'] ?? 0) + 1), m), {}),
  };
}

function diagnose(t: TestContext, name: string, d: Drill, extra: Record<string, unknown> = {}): void {
  const f = figures(d);
  t.diagnostic(`${name}: writes accepted again ${f.acceptedAgainMs} ms after the fault (careful clients: ${f.clientsAcceptedAgainMs} ms); `
    + `acked ${f.acked.length} (clients ${d.clients.keys.filter((k) => k.ackedAt).length}, probe ${d.probe.keys.filter((k) => k.ackedAt).length}), lost ${f.lost.length}; `
    + `client keys ${d.clients.keys.length}, retries ${f.retries}, replayed ${f.replayed}, broken ${f.broken.length}, unresolved ${f.unresolved.length}; `
    + `longest request after the fault ${f.maxRequestMs} ms; statuses ${JSON.stringify(f.statuses)}; primary ${d.oldPrimary.name} -> ${d.newPrimary?.name}`
    + `${Object.keys(extra).length > 0 ? `; ${JSON.stringify(extra)}` : ''}`);
}

/** The checks both faults share: the primary moved, nothing acknowledged is missing, one row per key. */
function assertNoLossNoDuplicates(d: Drill): void {
  const f = figures(d);
  assert.ok(d.newPrimary && d.newPrimary.name !== d.oldPrimary.name, `a replica was promoted (${d.oldPrimary.name} -> ${d.newPrimary?.name})`);
  assert.ok(d.clients.keys.filter((k) => k.ackedAt).length >= 30, `the clients kept writing (${d.clients.keys.filter((k) => k.ackedAt).length} acked)`);
  assert.deepEqual(f.lost.map((k) => k.key), [], 'every acknowledged write is on the final primary');
  assert.deepEqual(f.broken.map((k) => `${k.key}: ${k.broken}`), [], 'no retry was applied as a second write (409 slug taken) or refused as a different request (422)');
  assert.deepEqual(f.unresolved.map((k) => k.key), [], 'every client key ended acknowledged once the clients drained');
  for (const k of f.acked) assert.equal(d.keyStates.get(k.key), 'done', `the Idempotency-Key ${k.key} is stored as done with its write`);
  // Each row names the key it was written under; slugs are unique, so one row per key means no key
  // produced a second row under another name and no row exists for a key nobody acknowledged twice.
  const keys = new Set([...d.clients.keys, ...d.probe.keys].map((k) => k.key));
  const perKey = new Map<string, number>();
  for (const title of d.rows.values()) {
    const key = title.replace(/^(Post|Probe) /, '');
    assert.ok(keys.has(key), `row "${title}" belongs to a key the clients used`);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  assert.deepEqual([...perKey].filter(([, n]) => n > 1), [], 'one row per Idempotency-Key');
}

describe('the MySQL primary hangs for 12 s (SIGSTOP) under six careful writers, then wakes (SIGCONT)', { timeout: 150_000 }, () => {
  let c: RunningCluster | undefined;
  let drill: Drill | undefined;
  let readOnlyAfterWakeMs = Infinity;
  const readOnlySamples: string[] = [];
  let events = '';
  let directWrite = '';
  let wokeAt = 0;
  let stoppedPid = 0;
  before(async () => {
    const s = await setUp();
    c = s.c;
    const writers = carefulWriters(c.site, s.token, { prefix: 'hang' });
    await until('the clients to be writing', 20_000, () => writers.peek().keys.filter((k) => k.ackedAt).length >= 12, 100);
    const probe = writeProbe(c.site, s.token, 'hang');
    const faultAt = Date.now();
    stoppedPid = s.primary.pid;
    process.kill(stoppedPid, 'SIGSTOP');
    try {
      // The fault lasts a fixed 12 s by definition; nothing to await but the clock.
      await new Promise((r) => setTimeout(r, HANG_MS - (Date.now() - faultAt)));
    } finally {
      process.kill(stoppedPid, 'SIGCONT');
      wokeAt = Date.now();
    }
    // The woken server must find itself fenced: poll read_only from a fresh connection each time
    // (the fence kills client sessions, so a kept connection would not survive it).
    await until('the woken old primary to be read-only', 15_000, async () => {
      const at = Date.now() - wokeAt;
      let conn: Awaited<ReturnType<typeof mysqlDirect>> | undefined;
      try {
        conn = await mysqlDirect(c!, s.primary.port);
        const [r] = await conn.query('SELECT @@global.read_only AS ro');
        const ro = Number((r as Array<{ ro: number }>)[0]?.ro);
        readOnlySamples.push(`${at}ms ro=${ro}`);
        if (ro !== 1) return undefined;
        readOnlyAfterWakeMs = Date.now() - wokeAt;
        return true;
      } catch (err) {
        const why = (err as { code?: string }).code ?? (err as Error).message;
        readOnlySamples.push(`${at}ms ${why}`);
        // A plain error: mysql2 marks connection errors fatal, which would end until() at once.
        throw new Error(why);
      } finally {
        conn?.destroy();
      }
    }, 100).catch(() => undefined);
    // What the woken server says to a client that tries to write on it directly, as the site's own
    // user (who has no privilege to bypass read_only): it must refuse, never acknowledge.
    directWrite = await (async () => {
      const mysql = await import('mysql2/promise');
      const conn = await mysql.createConnection({ host: '127.0.0.1', port: s.primary.port, user: c!.credentials.appUser, password: c!.credentials.appPassword, database: 'dramble', connectTimeout: 2000 });
      try {
        await conn.query("INSERT INTO content (kind, slug, title, body_md, body_html) VALUES ('post', 'hang-direct-on-old-primary', 'direct', '', '')");
        return 'accepted';
      } catch (err) {
        return `${(err as { errno?: number }).errno ?? ''} ${(err as Error).message}`;
      } finally {
        conn.destroy();
      }
    })().catch((err: Error) => `no connection: ${err.message}`);
    // Keep the load on for a few seconds with the old primary awake, then let every client drain.
    await new Promise((r) => setTimeout(r, 3000));
    const probeReport = await probe.stop();
    const clients = await writers.stop();
    drill = { faultAt, oldPrimary: s.primary, clients, probe: probeReport, ...(await finalState(c, 'hang')) };
    const dbm = c.cluster.processes.find((p) => p.role === 'db-manager')!;
    events = await fetch(`${dbm.adminUrl}/api/events?limit=40`).then((r) => r.text()).catch((e: Error) => e.message);
  });
  after(async () => {
    if (stoppedPid) try { process.kill(stoppedPid, 'SIGCONT'); } catch { /* gone */ }
    await c?.stop();
  });

  it('accepts writes on a new primary within 6 s of the stop', (t) => {
    assert.ok(drill, 'the drill ran');
    let fence: string | undefined;
    try {
      fence = (JSON.parse(events) as { events: Array<{ type: string; message: string }> }).events.find((e) => e.type === 'fence')?.message;
    } catch {
      fence = undefined;
    }
    diagnose(t, 'SIGSTOP 12 s', drill, { readOnlyAfterWakeMs, readOnlySamples: readOnlySamples.slice(0, 5), fence, directWrite });
    const f = figures(drill);
    assert.ok(f.acceptedAgainMs <= ACCEPT_AGAIN_MS, `first write sent after the stop got 201 after ${f.acceptedAgainMs} ms (bound ${ACCEPT_AGAIN_MS} ms)`);
  });

  it('loses no acknowledged write and writes no key twice', () => {
    assert.ok(drill, 'the drill ran');
    assertNoLossNoDuplicates(drill);
  });

  it('fences the woken old primary: read-only within 2 s, and nothing acknowledged after the wake is missing', () => {
    assert.ok(drill, 'the drill ran');
    assert.ok(readOnlyAfterWakeMs <= READ_ONLY_AFTER_WAKE_MS, `the old primary was read-only ${readOnlyAfterWakeMs} ms after SIGCONT (bound ${READ_ONLY_AFTER_WAKE_MS} ms); `
      + `samples: ${readOnlySamples.slice(0, 30).join(', ')}; db-manager events: ${events.slice(0, 6000)}`);
    assert.match(directWrite, /^(1290|1836) /, `a direct write on the woken old primary is refused as read-only (got: ${directWrite})`);
    const lateLost = figures(drill).lost.filter((k) => k.ackedAt! >= wokeAt);
    assert.deepEqual(lateLost.map((k) => k.key), [], 'no write acknowledged after the wake is missing from the new primary');
  });
});

describe('the MySQL primary dies (SIGKILL) under six careful writers', { timeout: 120_000 }, () => {
  let c: RunningCluster | undefined;
  let drill: Drill | undefined;
  before(async () => {
    const s = await setUp();
    c = s.c;
    const writers = carefulWriters(c.site, s.token, { prefix: 'kill' });
    await until('the clients to be writing', 20_000, () => writers.peek().keys.filter((k) => k.ackedAt).length >= 12, 100);
    const probe = writeProbe(c.site, s.token, 'kill');
    const faultAt = Date.now();
    process.kill(s.primary.pid, 'SIGKILL');
    // Ten seconds of load after the kill: the failover and the clients' retries all fall inside it.
    await new Promise((r) => setTimeout(r, 10_000));
    const probeReport = await probe.stop();
    const clients = await writers.stop();
    drill = { faultAt, oldPrimary: s.primary, clients, probe: probeReport, ...(await finalState(c, 'kill')) };
  });
  after(async () => {
    await c?.stop();
  });

  it('loses no acknowledged write and writes no key twice', (t) => {
    assert.ok(drill, 'the drill ran');
    diagnose(t, 'SIGKILL', drill);
    assertNoLossNoDuplicates(drill);
  });

  it('keeps every request under 6 s', () => {
    assert.ok(drill, 'the drill ran');
    const f = figures(drill);
    assert.ok(f.maxRequestMs <= MAX_REQUEST_MS, `the longest request after the kill took ${f.maxRequestMs} ms (bound ${MAX_REQUEST_MS} ms)`);
  });
});
