// Pools for the primary and the replicas, following the published topology without a restart.
// Writes go to the primary (retried once on a new primary when that cannot duplicate them), with
// every statement and the connect bounded in time, and stop while the topology source is silent;
// reads go to a healthy replica within the lag bound, waiting for a session's last write when asked.
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { withTimeout, wrap, type Sql } from './sql.js';
import type { Logger } from '@dramble/lib';
import { DatabaseUnavailableError, PrimaryUnavailableError, TopologyUnknownError, WriteOutcomeUnknownError, isConnectionError, isReadOnlyError } from './errors.js';
import { endpointKey, shouldApply, type Endpoint, type Topology } from './topology.js';
import type { Credentials } from './mysql-url.js';
import { writeRefusalReason, type WriteRefusalReason } from './write-refusal.js';


/** How fresh a read must be: a GTID to wait for, 'primary' for the primary, or anything recent. */
export type Freshness = { afterGtid?: string | undefined; primary?: boolean } | undefined;

export interface DatabaseHooks {
  onRead?(target: 'primary' | 'replica'): void;
  onReplicaLag?(id: string, lag: number | null): void;
  /** A write was refused (no primary, Redis silent, timed out) or its COMMIT went unanswered. */
  onWriteRefused?(reason: WriteRefusalReason): void;
}

export interface DatabaseOptions {
  credentials: Credentials;
  primary: Endpoint;
  replicas: Endpoint[];
  logger: Logger;
  maxReplicaLagSeconds: number;
  readYourWritesTimeoutMs: number;
  /** How long a write that lost its primary waits for a new topology before failing with 503. */
  failoverWaitMs?: number;
  /** Bound on opening a connection (TCP plus handshake): a partitioned or hung host fails fast. Default 2000. */
  connectTimeoutMs?: number;
  /** Bound on each statement of a write, COMMIT included, of a read, and of a probe. Default 5000. */
  writeTimeoutMs?: number;
  probeIntervalMs?: number;
  hooks?: DatabaseHooks;
}

interface ReplicaState {
  ok: boolean;
  lag: number | null;
}

export class Database {
  private readonly pools = new Map<string, Pool>();
  private readonly replicaState = new Map<string, ReplicaState>();
  private configured: Topology;
  private published: Topology | undefined;
  private primaryFailed = false;
  private rr = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly epochWaiters = new Set<() => void>();
  private closed = false;
  /** When the topology source (Redis) last answered (monotonic clock); writes stop once it is silent too long. */
  private topologyHeardAt: number | undefined;
  private writeStopAfterSilenceMs = 0;
  private silenceLogged = false;

  constructor(private readonly options: DatabaseOptions) {
    this.configured = { epoch: -1, primary: options.primary, replicas: options.replicas };
  }

  /** The topology in force: the last published one, else the configured URLs. */
  get topology(): Topology {
    return this.published ?? this.configured;
  }

  get publishedTopology(): Topology | undefined {
    return this.published;
  }

  private get connectTimeoutMs(): number {
    return this.options.connectTimeoutMs ?? 2000;
  }

  private get writeTimeoutMs(): number {
    return this.options.writeTimeoutMs ?? 5000;
  }

  /** Reads get the same bound, and always more than a read-your-writes wait takes. */
  private get readTimeoutMs(): number {
    return Math.max(this.writeTimeoutMs, this.options.readYourWritesTimeoutMs + 1000);
  }

  /**
   * From now on writes need word from the topology source at least every `ms` (0: never stop).
   * Called by the topology follower; a Database without one (the CLI) writes to its configured primary.
   */
  requireTopologyHeartbeat(ms: number): void {
    this.writeStopAfterSilenceMs = ms;
  }

  /** The topology source answered (a read of the key, even an empty one, or a channel message). */
  noteTopologyHeard(at = performance.now()): void {
    if (this.silenceLogged) this.options.logger.info('topology source answers again; writes resume');
    this.silenceLogged = false;
    this.topologyHeardAt = at;
  }

  /** Why writes are refused because the topology may be out of date, or null when they may go ahead. */
  topologyStale(now = performance.now()): TopologyUnknownError | null {
    const bound = this.writeStopAfterSilenceMs;
    if (bound <= 0) return null;
    if (this.topologyHeardAt === undefined) return new TopologyUnknownError(null, bound);
    const silent = now - this.topologyHeardAt;
    return silent > bound ? new TopologyUnknownError(silent, bound) : null;
  }

  /** True while writes cannot succeed: the primary is unreachable or none is published. */
  get primaryDown(): boolean {
    return this.topology.primary === null || this.primaryFailed;
  }

  /** Follows a published topology; returns false (and changes nothing) for an older or equal epoch. */
  applyTopology(next: Topology): boolean {
    if (!shouldApply(this.published, next)) return false;
    const before = this.topology;
    this.published = next;
    const keep = new Set([...(next.primary ? [endpointKey(next.primary)] : []), ...next.replicas.map(endpointKey)]);
    for (const [key, pool] of this.pools) {
      if (keep.has(key)) continue;
      this.pools.delete(key);
      this.replicaState.delete(key);
      // Let statements already running on the old pool finish before closing it.
      setTimeout(() => void pool.end().catch(() => undefined), 5000).unref();
    }
    if (!before.primary || !next.primary || endpointKey(before.primary) !== endpointKey(next.primary)) this.primaryFailed = false;
    for (const r of next.replicas) this.replicaState.set(endpointKey(r), { ok: true, lag: r.lagSeconds ?? 0 });
    this.options.logger.info({ epoch: next.epoch, primary: next.primary, replicas: next.replicas.map(endpointKey) }, 'following new topology');
    for (const w of this.epochWaiters) w();
    return true;
  }

  private pool(e: Endpoint): Pool {
    const key = endpointKey(e);
    let pool = this.pools.get(key);
    if (!pool) {
      if (this.closed) throw new DatabaseUnavailableError(new Error('database closed'));
      const { user, password, database } = this.options.credentials;
      pool = mysql.createPool({
        host: e.host, port: e.port, user, password, database,
        connectionLimit: 10, maxIdle: 4, idleTimeout: 30_000, queueLimit: 200,
        connectTimeout: this.connectTimeoutMs, enableKeepAlive: true, charset: 'utf8mb4_unicode_ci', dateStrings: false, timezone: 'Z',
        // Statements go through query() (parameters escaped client-side), never execute(), so the
        // per-connection prepared-statement cache stays empty; at mysql2's default size (16,000)
        // its preallocated arrays still cost ~0.5 MB per connection.
        maxPreparedStatements: 16,
      });
      // A dead server surfaces as an error on the statement; the pool-level event only needs noting.
      pool.on('connection', (c) => {
        c.on('error', () => undefined);
        // The client-side timeout ends the wait but not the server's work: a statement left waiting
        // on a row lock would keep its transaction, and the locks it holds, for InnoDB's default 50 s.
        // Bounded here too, the server gives up about when the app does. (Errors are ignored: the
        // setting is a help, and the connection's first real statement reports a dead server anyway.)
        // The promise pool passes its event the callback-style core connection (its typing says otherwise).
        const core = c as unknown as { query(sql: string, cb: (err: unknown) => void): void };
        core.query(`SET SESSION innodb_lock_wait_timeout = ${Math.ceil(this.writeTimeoutMs / 1000)}`, () => undefined);
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Throws unless the primary answers (for /readyz). */
  async pingPrimary(): Promise<void> {
    const p = this.topology.primary;
    if (!p) throw new PrimaryUnavailableError(null);
    await this.timedRows(p, 'SELECT 1', Math.min(2000, this.writeTimeoutMs));
  }

  /**
   * A connection from `e`'s pool within the connect bound (the pool may also be full of
   * connections stuck on a hung server). A connection that arrives after the deadline goes back.
   */
  private async acquire(e: Endpoint, ms: number): Promise<PoolConnection> {
    const pending = this.pool(e).getConnection();
    try {
      return await withTimeout(pending, ms, `connect ETIMEDOUT: no connection to ${endpointKey(e)} within ${ms} ms`);
    } catch (err) {
      pending.then((c) => c.release(), () => undefined);
      throw err;
    }
  }

  /**
   * One statement on its own connection with a client-side timeout. A connection that timed out
   * or broke is destroyed: mysql2 keeps the unanswered command queued on it, so returned to the
   * pool it would stall every later statement (probes of a SIGSTOPped server would use up the pool).
   */
  private timedRows<T>(e: Endpoint, sql: string, ms: number): Promise<T[]> {
    return this.onConnection(e, ms, (q) => q.rows<T>(sql));
  }

  /** Runs `fn` on one connection of `e` whose every statement is bounded by `ms` (see timedRows). */
  private async onConnection<T>(e: Endpoint, ms: number, fn: (sql: Sql) => Promise<T>): Promise<T> {
    const conn = await this.acquire(e, Math.max(this.connectTimeoutMs, ms));
    try {
      const out = await fn(wrap(conn, ms));
      conn.release();
      return out;
    } catch (err) {
      if (isConnectionError(err)) conn.destroy();
      else conn.release();
      throw err;
    }
  }

  /** Connections in use and idle per pool, for /metrics. */
  poolStats(): Array<{ pool: string; role: string; used: number; idle: number }> {
    const primaryKey = this.topology.primary ? endpointKey(this.topology.primary) : '';
    return [...this.pools].map(([key, pool]) => {
      const p = pool.pool as unknown as { _allConnections?: { length: number }; _freeConnections?: { length: number } };
      const all = p._allConnections?.length ?? 0;
      const idle = p._freeConnections?.length ?? 0;
      return { pool: key, role: key === primaryKey ? 'primary' : 'replica', used: all - idle, idle };
    });
  }

  /** Replication lag per replica id as the probes last saw it (null: unknown or down). */
  probedLag(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const r of this.topology.replicas) {
      const st = this.replicaState.get(endpointKey(r));
      out[r.id] = st?.ok ? st.lag : null;
    }
    return out;
  }

  /** Replicas a read may use now: healthy, and within the lag bound by both probe and topology. */
  usableReplicas(): Endpoint[] {
    const max = this.options.maxReplicaLagSeconds;
    const primaryKey = this.topology.primary ? endpointKey(this.topology.primary) : '';
    return this.topology.replicas.filter((r) => {
      const key = endpointKey(r);
      if (key === primaryKey) return false;
      const st = this.replicaState.get(key);
      if (st && !st.ok) return false;
      if (st && st.lag !== null && st.lag > max) return false;
      // Unknown lag (replication disconnected) is acceptable only while the primary is down too.
      if (st && st.lag === null && !this.primaryDown) return false;
      return r.lagSeconds === undefined || r.lagSeconds === null || r.lagSeconds <= max;
    });
  }

  /** Runs a read. Replicas first (after waiting for `afterGtid`), the primary as the fallback. */
  async read<T>(fn: (sql: Sql) => Promise<T>, fresh?: Freshness): Promise<T> {
    if (!fresh?.primary) {
      const replicas = this.usableReplicas();
      for (let i = 0; i < Math.min(replicas.length, 2); i++) {
        const r = replicas[(this.rr++ + i) % replicas.length]!;
        try {
          const out = await this.onConnection(r, this.readTimeoutMs, async (sql) => {
            if (fresh?.afterGtid) {
              const rows = await sql.rows<{ r: number | null }>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [fresh.afterGtid, this.options.readYourWritesTimeoutMs / 1000]);
              if (Number(rows[0]?.r) !== 0) return null;
            }
            return { value: await fn(sql) };
          });
          if (!out) break; // not caught up in time: read from the primary
          this.options.hooks?.onRead?.('replica');
          return out.value;
        } catch (err) {
          if (!isConnectionError(err)) throw err;
          this.markReplica(r, { ok: false, lag: null });
          this.options.logger.warn({ replica: endpointKey(r), err: String(err) }, 'replica read failed; trying elsewhere');
        }
      }
    }
    const primary = this.topology.primary;
    const fallbacks = fresh?.primary || fresh?.afterGtid ? this.usableReplicas() : [];
    if (primary) {
      try {
        const out = await this.onConnection(primary, this.readTimeoutMs, fn);
        this.options.hooks?.onRead?.('primary');
        return out;
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.primaryFailed = true;
        if (fallbacks.length === 0) throw new DatabaseUnavailableError(err);
      }
    }
    // The primary was asked for but is gone: a possibly stale answer beats none for reads.
    for (const r of fallbacks) {
      try {
        const out = await this.onConnection(r, this.readTimeoutMs, fn);
        this.options.hooks?.onRead?.('replica');
        return out;
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.markReplica(r, { ok: false, lag: null });
      }
    }
    throw new DatabaseUnavailableError();
  }

  /**
   * Runs `fn` in a transaction on the primary and returns its result with the GTID of the commit.
   * A failure before COMMIT was sent (connect, statement, or a demoted read-only primary) cannot
   * have changed anything, so it is retried once when a new primary is (or soon gets) published.
   */
  async write<T>(fn: (sql: Sql) => Promise<T>): Promise<{ result: T; gtid: string | null }> {
    try {
      return await this.writeWithRetry(fn);
    } catch (err) {
      const reason = writeRefusalReason(err);
      if (reason) this.options.hooks?.onWriteRefused?.(reason);
      throw err;
    }
  }

  /**
   * Why writes are refused right now, as far as this instance can tell without trying one:
   * Redis silent past the bound (a failover could go unheard), or no reachable primary.
   */
  get writesPaused(): 'redis-silent' | 'no-primary' | null {
    if (this.topologyStale()) return 'redis-silent';
    return this.primaryDown ? 'no-primary' : null;
  }

  private async writeWithRetry<T>(fn: (sql: Sql) => Promise<T>): Promise<{ result: T; gtid: string | null }> {
    this.assertTopologyFresh();
    const epoch = this.topology.epoch;
    try {
      return await this.writeOnce(fn);
    } catch (e) {
      if (!(e instanceof WriteFailure)) throw e;
      const { err, safe } = e;
      if (!safe) throw new WriteOutcomeUnknownError(this.primaryName(), err);
      if (this.topology.epoch === epoch && !(await this.waitForEpochAfter(epoch, this.options.failoverWaitMs ?? 2000))) {
        throw new PrimaryUnavailableError(this.primaryName(), err);
      }
      this.assertTopologyFresh();
      this.options.logger.info({ epoch: this.topology.epoch }, 'retrying write on the new primary');
      try {
        return await this.writeOnce(fn);
      } catch (e2) {
        if (e2 instanceof WriteFailure) throw e2.safe ? new PrimaryUnavailableError(this.primaryName(), e2.err) : new WriteOutcomeUnknownError(this.primaryName(), e2.err);
        throw e2;
      }
    }
  }

  private assertTopologyFresh(): void {
    const stale = this.topologyStale();
    if (!stale) return;
    if (!this.silenceLogged) this.options.logger.warn({ err: stale.message }, 'refusing writes until the topology source answers');
    this.silenceLogged = true;
    throw stale;
  }

  private primaryName(): string | null {
    const p = this.topology.primary;
    return p ? `${p.id} (${endpointKey(p)})` : null;
  }

  private async writeOnce<T>(fn: (sql: Sql) => Promise<T>): Promise<{ result: T; gtid: string | null }> {
    const primary = this.topology.primary;
    if (!primary) throw new WriteFailure(new PrimaryUnavailableError(null), true);
    let conn: PoolConnection;
    try {
      conn = await this.acquire(primary, Math.max(this.connectTimeoutMs, this.writeTimeoutMs));
    } catch (err) {
      if (isConnectionError(err)) this.primaryFailed = true;
      throw new WriteFailure(err, true);
    }
    // Every statement, COMMIT included, is bounded: a hung primary must not hold the request.
    const sql = wrap(conn, this.writeTimeoutMs);
    let phase: 'body' | 'commit' = 'body';
    try {
      await sql.exec('START TRANSACTION');
      const result = await fn(sql);
      phase = 'commit';
      await sql.exec('COMMIT');
      this.primaryFailed = false;
      return { result, gtid: await this.lastGtid(conn, sql) };
    } catch (err) {
      if (isConnectionError(err)) {
        // Destroyed, never released: a timed-out statement stays queued on the connection, and
        // ROLLBACK behind it would wait as long. The server rolls back an open transaction itself.
        conn.destroy();
        this.primaryFailed = true;
        // Lost during COMMIT: the write may or may not have happened, so it is not repeated.
        throw new WriteFailure(err, phase === 'body');
      }
      // A ROLLBACK that times out leaves its command queued too: that connection goes as well.
      const rolledBack = await sql.exec('ROLLBACK').then(() => true, () => false);
      if (rolledBack) conn.release();
      else conn.destroy();
      if (isReadOnlyError(err)) throw new WriteFailure(err, true);
      throw err;
    }
  }

  /** The committed write's GTID (null on MySQL, which has no @@last_gtid: such sessions read from the primary). Releases `conn`. */
  private async lastGtid(conn: PoolConnection, sql: Sql): Promise<string | null> {
    try {
      const rows = await sql.rows<{ g: unknown }>('SELECT @@last_gtid AS g');
      conn.release();
      return rows[0]?.g ? String(rows[0].g) : null;
    } catch (err) {
      // The write is committed either way; only the connection may be unusable.
      if (isConnectionError(err)) conn.destroy();
      else conn.release();
      return null;
    }
  }

  private waitForEpochAfter(epoch: number, ms: number): Promise<boolean> {
    if (this.topology.epoch > epoch) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.topology.epoch <= epoch) return;
        clearTimeout(timer);
        this.epochWaiters.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.epochWaiters.delete(done);
        resolve(false);
      }, ms);
      this.epochWaiters.add(done);
    });
  }

  private markReplica(r: Endpoint, state: ReplicaState): void {
    this.replicaState.set(endpointKey(r), state);
    this.options.hooks?.onReplicaLag?.(r.id, state.ok ? state.lag : null);
  }

  /** Checks the primary and every replica once (reachability, replication lag). */
  async probe(): Promise<void> {
    const t = this.topology;
    const tasks: Promise<void>[] = [];
    if (t.primary) {
      const primary = t.primary;
      tasks.push(
        this.timedRows(primary, 'SELECT 1', 2000).then(
          () => {
            if (this.topology.primary === primary) this.primaryFailed = false;
          },
          () => {
            if (this.topology.primary === primary) this.primaryFailed = true;
          },
        ),
      );
    }
    for (const r of t.replicas) {
      tasks.push(
        this.timedRows<Record<string, unknown>>(r, 'SHOW SLAVE STATUS', 2000).then(
          (rows) => {
            const row = rows[0];
            if (!row) return this.markReplica(r, { ok: false, lag: null }); // not replicating at all
            // A stopped SQL thread means the data stops moving: skip it. With the IO thread
            // reconnecting (primary down) the lag is unknown (NULL) but the data is as fresh as any.
            if (row['Slave_SQL_Running'] !== 'Yes') return this.markReplica(r, { ok: false, lag: null });
            const lag = row['Seconds_Behind_Master'];
            this.markReplica(r, { ok: true, lag: lag === null || lag === undefined ? null : Number(lag) });
          },
          (err: unknown) => {
            // Without REPLICATION CLIENT the lag is unknown; reachability is what we can tell.
            const errno = (err as { errno?: number }).errno;
            this.markReplica(r, errno === 1227 ? { ok: true, lag: 0 } : { ok: false, lag: null });
          },
        ),
      );
    }
    await Promise.all(tasks);
  }

  startProbes(intervalMs = this.options.probeIntervalMs ?? 1000): void {
    this.stopProbes();
    const tick = (): void => {
      void this.probe().finally(() => {
        if (this.probeTimer) this.probeTimer = setTimeout(tick, intervalMs).unref();
      });
    };
    this.probeTimer = setTimeout(tick, intervalMs).unref();
  }

  stopProbes(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopProbes();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }
}

class WriteFailure extends Error {
  constructor(readonly err: unknown, readonly safe: boolean) {
    super(err instanceof Error ? err.message : String(err));
  }
}

export { wrap, type Sql };
