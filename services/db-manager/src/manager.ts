// The manager loop: probe every instance, analyse the snapshot, act on the plan (only while
// leader), publish the topology. API calls (switchover, rejoin) run through the same lock so that
// exactly one recovery runs at a time.
import type { Logger } from '@dramble/lib';
import type { Registry } from 'prom-client';
import { analyze, type Analysis } from './analysis/analyze.js';
import { chooseCandidate } from './analysis/candidate.js';
import { lagSeconds, replicatesFrom } from './analysis/derive.js';
import { nextReceivedAt, receiveSignature } from './analysis/freshness.js';
import { inferPrimary } from './analysis/infer.js';
import { afterRestart, type RestartHistory } from './analysis/io-errors.js';
import type { Plan } from './analysis/plan.js';
import { emptyInstance, type AnalysisPolicy, type InstanceSnapshot, type TopologySnapshot } from './analysis/snapshot.js';
import { ConflictError, NotFoundError } from './errors.js';
import { EventLog, type EventType, type ManagerEvent } from './events.js';
import { flavorFor, type Flavor } from './flavor/index.js';
import type { LeaderElection } from './ha/types.js';
import { createHookRunner } from './hooks.js';
import { createMetrics, type ManagerMetrics, type Role } from './metrics.js';
import { errorText, type Credentials, type Target } from './probe/connection.js';
import { HeartbeatWriter } from './probe/heartbeat.js';
import { InstanceProbe } from './probe/instance-probe.js';
import { membershipChanged, planMembership } from './membership.js';
import type { PublishedTopology, TopologyPublisher } from './publish/redis-topology.js';
import { createLocalPublisher } from './publish/redis-topology.js';
import { bootstrap, type BootstrapResult } from './recovery/bootstrap.js';
import type { RecoveryContext } from './recovery/context.js';
import { failover, type FailoverResult } from './recovery/failover.js';
import { fenceInstance, setReadOnly, setWritable, startReplication } from './recovery/fence.js';
import { enableSemiSyncReplica, repairReplicaSettings, setSemiSyncWait } from './recovery/replica-settings.js';
import { errantBetween } from './gtid/positions.js';
import { ErrantGtidError, rejoin } from './recovery/rejoin.js';
import { switchover, type SwitchoverResult } from './recovery/switchover.js';
import type { ManagerState, StoredState } from './recovery/durable-state.js';
import { StateKeeper } from './recovery/state-keeper.js';
import { hostname } from 'node:os';
import { chooseReseed, RESEED_RETRY_MS } from './analysis/reseed-choice.js';
import { guardedFlavor, LeaseLostError } from './ha/lease-guard.js';
import { reseed, type ReseedResult } from './recovery/reseed.js';

export interface ManagerOptions extends AnalysisPolicy {
  instances: Target[];
  credentials: Credentials;
  replication: Credentials;
  preferredPrimary?: string | undefined;
  flavor: 'auto' | 'mariadb' | 'mysql';
  probeIntervalMs: number;
  probeTimeoutMs: number;
  semiSync: boolean;
  bootstrap: boolean;
  switchoverTimeoutMs: number;
  hookCommand?: string | undefined;
  /** Re-seed fenced instances with errant GTIDs from the primary (recovery/reseed.ts). */
  reseedErrant?: boolean;
  errantExportDir?: string;
}

export interface ManagerDeps {
  logger: Logger;
  registry: Registry;
  publisher?: TopologyPublisher;
  election?: LeaderElection;
  /** Called with the new topology whenever primary or replica set changes (e.g. the pod labeler). */
  onTopologyChange?: (t: PublishedTopology) => Promise<void> | void;
}

export interface InstanceView {
  id: string;
  host: string;
  port: number;
  role: Role;
  reachable: boolean;
  healthy: boolean;
  readOnly: boolean | null;
  serverId: number | null;
  lagSeconds: number | null;
  gtid: string;
  gtidBinlogPos: string;
  replication: { source: string; ioRunning: string; sqlRunning: boolean; lastIoError: string; lastSqlError: string } | null;
  semiSync: InstanceSnapshot['semiSync'];
  quarantined: string | null;
  errantGtids: string[];
  lastError: string | null;
}

export interface TopologyView {
  primary: string | null;
  epoch: number;
  leader: boolean;
  problem: Analysis['problem'];
  problems: Analysis['problems'];
  instances: InstanceView[];
}

const REPUBLISH_MS = 5000;
/** Quarantine reason of an instance whose data is being replaced (recovery/reseed.ts). */
const RESEEDING = 'reseeding';

export class Manager {
  private probes: InstanceProbe[];
  /** A new instance list from setInstances(), applied at the start of the next probe round. */
  private pendingInstances: Target[] | undefined;
  private readonly states = new Map<string, InstanceSnapshot>();
  private readonly heartbeat: HeartbeatWriter;
  readonly events: EventLog;
  private readonly metrics: ManagerMetrics;
  private readonly publisher: TopologyPublisher;
  primaryId: string | null = null;
  private quarantined: Record<string, string> = {};
  private knownErrant: Record<string, string[]> = {};
  private lastFailoverAt: number | null = null;
  epoch = 0;
  private analysis: Analysis | null = null;
  private busy: string | null = null;
  /** Bumped by every recovery, so a tick never acts on probes taken before it. */
  private generation = 0;
  private bootstrapped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private publishedSignature = '';
  private publishedAt = 0;
  private lastProblemKey = '';
  private ticks = 0;
  private tickWaiters: Array<() => void> = [];
  /** Durable state (recovery/state-keeper.ts): the last copy loaded, and the keeper that writes it. */
  private durable: StoredState | null = null;
  private readonly stateKeeper: StateKeeper;
  private readonly reseedAttemptAt: Record<string, number> = {};
  /** Restarts after IO network errors per replica, forgotten once its IO thread runs again (backoff). */
  private replicationRestarts: Record<string, RestartHistory> = {};

  constructor(
    readonly options: ManagerOptions,
    private readonly deps: ManagerDeps,
  ) {
    this.probes = options.instances.map((t) => new InstanceProbe(t, options.credentials, options.probeTimeoutMs, options.flavor));
    options.instances.forEach((t, i) => this.states.set(t.id, emptyInstance(t.id, t.host, t.port, i)));
    this.heartbeat = new HeartbeatWriter(options.credentials, options.probeTimeoutMs);
    this.events = new EventLog(deps.logger);
    this.events.onEvent(createHookRunner(options.hookCommand, deps.logger));
    this.metrics = createMetrics(deps.registry, { instances: () => this.view().instances, isLeader: () => this.isLeader });
    this.publisher = deps.publisher ?? createLocalPublisher();
    this.stateKeeper = new StateKeeper(
      { creds: options.credentials, connectTimeoutMs: Math.max(options.probeTimeoutMs, 500), statementTimeoutMs: 10_000 },
      `${hostname()}-${process.pid}`,
      (message) => this.events.add('recovery-failed', message),
    );
    deps.election?.onChange((leader) => {
      this.events.add('leader', leader ? 'this manager is now the leader' : 'this manager lost the leadership');
      // A new leader acts on the shared record, not on what it remembered as a standby.
      if (leader) this.stateKeeper.stale = true;
    });
  }

  get isLeader(): boolean {
    return this.deps.election ? this.deps.election.isLeader : true;
  }

  private get flavor(): Flavor {
    return this.probes.find((p) => this.states.get(p.target.id)?.reachable)?.flavor ?? flavorFor(this.options.flavor);
  }

  start(): void {
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      const t0 = Date.now();
      this.running = this.tick().catch((err: unknown) => this.deps.logger.error({ err }, 'manager tick failed'));
      await this.running;
      if (this.stopped) return;
      this.timer = setTimeout(() => void loop(), Math.max(0, this.options.probeIntervalMs - (Date.now() - t0)));
    };
    void loop();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.stateKeeper.flush();
    await this.heartbeat.pause();
    this.heartbeat.drop();
    for (const p of this.probes) p.close();
    await this.publisher.close();
  }

  /** Resolves after `n` more ticks have completed (tests wait on probes instead of sleeping). */
  waitTicks(n = 1): Promise<void> {
    const target = this.ticks + n;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.ticks >= target) resolve();
        else this.tickWaiters.push(check);
      };
      check();
    });
  }

  private recoveryContext(): RecoveryContext {
    return {
      creds: this.options.credentials,
      replication: this.options.replication,
      flavor: guardedFlavor(this.flavor, () => this.isLeader),
      assertLeader: () => {
        if (!this.isLeader) throw new LeaseLostError('continue a recovery');
      },
      connectTimeoutMs: Math.max(this.options.probeTimeoutMs, 500),
      statementTimeoutMs: 10_000,
      semiSync: this.options.semiSync,
      step: (message, data) => this.events.add('step', message, data),
    };
  }

  /**
   * Replaces the watched instances (Kubernetes pod discovery: pods added, removed or moved). Applied at the
   * start of the next probe round that no recovery is running in; the current primary is always kept.
   */
  setInstances(targets: Target[]): void {
    this.pendingInstances = targets;
  }

  /** The instances probed now, in priority order. */
  get instances(): Target[] {
    return this.probes.map((p) => p.target);
  }

  private applyMembership(): void {
    const wanted = this.pendingInstances;
    if (!wanted || this.busy !== null) return;
    this.pendingInstances = undefined;
    const plan = planMembership(this.instances, wanted, this.primaryId);
    if (!membershipChanged(plan)) return;
    const old = new Map(this.probes.map((p) => [p.target.id, p]));
    this.probes = plan.next.map((t) => {
      const p = old.get(t.id);
      if (p && p.target.host === t.host && p.target.port === t.port) {
        old.delete(t.id);
        return p;
      }
      return new InstanceProbe(t, this.options.credentials, this.options.probeTimeoutMs, this.options.flavor);
    });
    for (const p of old.values()) p.close();
    for (const id of plan.removed) delete this.quarantined[id];
    const states = new Map(this.states);
    this.states.clear();
    plan.next.forEach((t, i) => {
      const prev = states.get(t.id);
      // A moved instance keeps its history (failure count, server_id) but is probed at its new address.
      this.states.set(t.id, prev ? { ...prev, host: t.host, port: t.port, priority: i } : emptyInstance(t.id, t.host, t.port, i));
    });
    this.generation++;
    const parts = [
      plan.added.length ? `added ${plan.added.join(', ')}` : '',
      plan.removed.length ? `removed ${plan.removed.join(', ')}` : '',
      plan.moved.length ? `moved ${plan.moved.join(', ')}` : '',
      plan.keptPrimary ? `kept the primary ${this.primaryId} although it is no longer listed` : '',
    ].filter(Boolean);
    this.events.add('step', `instances changed: ${parts.join('; ')}`, { instances: plan.next.map((t) => t.id) });
  }

  async tick(): Promise<void> {
    this.applyMembership();
    const generation = this.generation;
    const results = await Promise.all(this.probes.map((p) => p.probe()));
    for (const [i, r] of results.entries()) {
      const prev = this.states.get(r.id)!;
      const failures = r.reachable ? 0 : prev.consecutiveFailures + 1;
      const receivedAt = nextReceivedAt({ reachable: prev.reachable, receivedAt: prev.receivedAt, signature: receiveSignature(prev) }, { reachable: r.reachable, signature: receiveSignature(r), probedAt: r.probedAt });
      // An unreachable instance keeps its last known server_id: replicas still name it as their source.
      this.states.set(r.id, { ...r, serverId: r.serverId ?? prev.serverId, priority: i, consecutiveFailures: failures, firstFailureAt: r.reachable ? null : (prev.firstFailureAt ?? r.probedAt), receivedAt });
      if (r.replication?.ioRunning === 'Yes' || (r.reachable && r.replication === null)) delete this.replicationRestarts[r.id];
    }
    try {
      if (!this.isLeader || this.busy !== null || generation !== this.generation) return;
      if (this.stateKeeper.stale && !(await this.loadDurableState())) return;
      if (this.options.bootstrap && !this.bootstrapped) {
        // The probes of this tick predate the bootstrap: analyse fresh ones next tick.
        await this.runBootstrap();
        return;
      }
      if (this.primaryId === null) {
        this.primaryId = inferPrimary(this.snapshot());
        if (this.primaryId) this.events.add('bootstrap', `found primary ${this.primaryId}`, { primary: this.primaryId });
      }
      const snap = this.snapshot();
      this.analysis = analyze(snap);
      this.knownErrant = this.analysis.errant;
      this.liftQuarantines(snap);
      this.noteProblems(this.analysis);
      const primary = this.primaryId ? this.states.get(this.primaryId) : undefined;
      if (primary?.reachable && primary.readOnly === false) this.heartbeat.beat(primary, Date.now());
      if (primary?.semiSync) this.metrics.semiSyncWaiting.set(primary.semiSync.sourceEnabled ? 1 : 0);
      if (this.analysis.plan.action !== 'none') await this.exclusive(`automatic ${this.analysis.plan.action}`, () => this.execute(this.analysis!.plan, snap));
      else await this.reseedIfErrant(snap);
      await this.publishIfChanged();
      void this.saveDurableState();
    } finally {
      if (!this.isLeader || this.analysis === null) this.analysis = analyze(this.snapshot());
      this.ticks++;
      const waiters = this.tickWaiters;
      this.tickWaiters = [];
      for (const w of waiters) w();
    }
  }

  snapshot(): TopologySnapshot {
    const o = this.options;
    return {
      now: Date.now(),
      primaryId: this.primaryId,
      instances: [...this.states.values()],
      quarantined: { ...this.quarantined },
      knownErrant: { ...this.knownErrant },
      lastFailoverAt: this.lastFailoverAt,
      replicationRestarts: { ...this.replicationRestarts },
      policy: { failoverAfterProbes: o.failoverAfterProbes, failoverMinMs: o.failoverMinMs, failoverCooldownMs: o.failoverCooldownMs, maxPromotionLagSeconds: o.maxPromotionLagSeconds, laggingReplicaSeconds: o.laggingReplicaSeconds, autoRejoin: o.autoRejoin, replicaSilenceMs: o.replicaSilenceMs, semiSync: o.semiSync },
    };
  }

  private async runBootstrap(): Promise<BootstrapResult | undefined> {
    try {
      const durable = this.durable ? { primaryId: this.durable.primaryId, quarantined: Object.keys(this.durable.quarantined) } : null;
      const r = await this.exclusive('bootstrap', () => bootstrap(this.recoveryContext(), this.options.instances, { preferredPrimary: this.options.preferredPrimary, semiSync: this.options.semiSync, durable }));
      this.bootstrapped = true;
      // No choice (the recorded primary is unreachable): keep the recorded one, so analysis can fail it over.
      const recorded = this.durable?.primaryId ?? null;
      this.primaryId = r.primaryId ?? (recorded !== null && !this.states.get(recorded)?.reachable ? recorded : null);
      this.events.add('bootstrap', r.changes.length ? `bootstrap: primary ${r.primaryId}, ${r.changes.length} change(s)` : `bootstrap: primary ${r.primaryId}, nothing to change`, { ...r });
      return r;
    } catch (err) {
      this.events.add('recovery-failed', `bootstrap failed: ${errorText(err)}`);
      return undefined;
    }
  }

  /** Replaces the memory with the newest durable copy; false while no instance answers (try next tick). */
  private async loadDurableState(): Promise<boolean> {
    const s = await this.stateKeeper.load(this.instances);
    if (s === undefined) return false;
    this.durable = s;
    if (s) {
      const known = (id: string): boolean => this.states.has(id);
      this.primaryId = s.primaryId !== null && known(s.primaryId) ? s.primaryId : this.primaryId;
      this.epoch = Math.max(this.epoch, s.epoch);
      this.quarantined = Object.fromEntries(Object.entries(s.quarantined).filter(([id]) => known(id)));
      this.knownErrant = Object.fromEntries(Object.entries(s.errantGtids).filter(([id]) => known(id)));
      this.lastFailoverAt = s.lastFailoverAt;
      this.events.add('step', `loaded the manager state (version ${s.version}, from ${s.source}): primary ${s.primaryId ?? 'none'}, epoch ${s.epoch}, quarantined ${Object.keys(s.quarantined).join(', ') || 'none'}`, { ...s });
    }
    return true;
  }

  /** What survives a restart or a leader change (recovery/durable-state.ts). */
  durableState(): ManagerState {
    return { primaryId: this.primaryId, epoch: this.epoch, quarantined: { ...this.quarantined }, errantGtids: { ...this.knownErrant }, lastFailoverAt: this.lastFailoverAt };
  }

  /** Queues a write of the durable state on the primary when it changed; resolves once written (or failed). */
  saveDurableState(): Promise<void> {
    if (!this.isLeader) return Promise.resolve();
    const primary = this.primaryId ? this.states.get(this.primaryId) : undefined;
    return this.stateKeeper.saveIfChanged(primary, this.durableState(), this.deps.election?.generation ?? 0);
  }

  /** An instance quarantined for errant GTIDs that now has none and replicates cleanly from the primary is trusted again. */
  private liftQuarantines(snap: TopologySnapshot): void {
    if (!this.primaryId || !this.states.get(this.primaryId)?.reachable) return;
    for (const [id, reason] of Object.entries(this.quarantined)) {
      const i = this.states.get(id);
      const r = i?.replication;
      // Any reason: an old primary re-attached by bootstrap after a restart is as trusted as one rejoined.
      if (!i?.reachable || (this.knownErrant[id]?.length ?? 0) > 0) continue;
      if (r && r.ioRunning === 'Yes' && r.sqlRunning && replicatesFrom(snap, i, this.primaryId)) {
        delete this.quarantined[id];
        this.events.add('repair', `${id} has no errant GTIDs and replicates from ${this.primaryId}: quarantine (${reason}) lifted`, { instance: id });
      }
    }
  }

  private noteProblems(a: Analysis): void {
    const key = a.problems.map((p) => `${p.code}:${p.instanceId ?? ''}`).join(' ');
    if (key === this.lastProblemKey) return;
    this.lastProblemKey = key;
    this.events.add('problem', a.problem ? `${a.problem.code}${a.problem.instanceId ? ` on ${a.problem.instanceId}` : ''}: ${a.problem.detail}` : 'topology healthy', {
      problems: a.problems.map((p) => ({ code: p.code, instance: p.instanceId, detail: p.detail })),
    });
  }

  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy !== null) throw new ConflictError(`another operation is running: ${this.busy}`);
    this.busy = what;
    try {
      return await fn();
    } finally {
      this.busy = null;
      this.generation++;
    }
  }

  private target(id: string): InstanceSnapshot {
    const s = this.states.get(id);
    if (!s) throw new NotFoundError(`no instance "${id}" (known: ${[...this.states.keys()].join(', ')})`);
    return s;
  }

  private async execute(plan: Plan, snap: TopologySnapshot): Promise<void> {
    const ctx = this.recoveryContext();
    try {
      switch (plan.action) {
        case 'none':
          return;
        case 'failover':
          await this.runFailover(snap, plan.candidateId);
          return;
        case 'fence':
          await this.runFence(plan.instanceId, snap);
          return;
        case 'semiSyncWait':
          await setSemiSyncWait(ctx, this.target(plan.instanceId), plan.on);
          this.noteSemiSync(plan.instanceId, plan.on, plan.reason);
          return;
        case 'enableSemiSyncReplica':
          await enableSemiSyncReplica(ctx, this.target(plan.instanceId));
          this.events.add('repair', `turned the semi-sync replica side on for ${plan.instanceId}`, { instance: plan.instanceId });
          return;
        case 'repairReplicaSettings': {
          const fix = { netTimeoutSeconds: plan.netTimeoutSeconds, heartbeatPeriodSeconds: plan.heartbeatPeriodSeconds };
          await repairReplicaSettings(ctx, this.target(plan.instanceId), fix);
          this.events.add('repair', `set the replica settings of ${plan.instanceId} again (${[plan.netTimeoutSeconds !== null ? `net timeout ${plan.netTimeoutSeconds} s` : '', plan.heartbeatPeriodSeconds !== null ? `heartbeat period ${plan.heartbeatPeriodSeconds} s` : ''].filter(Boolean).join(', ')})`, { instance: plan.instanceId, ...fix });
          return;
        }
        case 'quarantine':
          await setReadOnly(ctx, this.target(plan.instanceId));
          this.quarantined[plan.instanceId] = `errant GTIDs ${plan.errantGtids.join(',')}`;
          this.events.add('quarantine', `quarantined ${plan.instanceId}: errant GTIDs ${plan.errantGtids.join(',')}`, { instance: plan.instanceId, errantGtids: plan.errantGtids });
          return;
        case 'setReadOnly':
          await setReadOnly(ctx, this.target(plan.instanceId));
          this.events.add('repair', `set replica ${plan.instanceId} read-only`, { instance: plan.instanceId });
          return;
        case 'setWritable':
          await setWritable(ctx, this.target(plan.instanceId));
          this.events.add('repair', `made primary ${plan.instanceId} writable`, { instance: plan.instanceId });
          return;
        case 'startReplication':
          await startReplication(ctx, this.target(plan.instanceId));
          this.events.add('repair', `started replication on ${plan.instanceId}`, { instance: plan.instanceId });
          return;
        case 'restartReplication': {
          // Counted before it runs: a restart that fails (source refusing again) still backs off.
          const h = afterRestart(this.replicationRestarts[plan.instanceId], Date.now());
          this.replicationRestarts[plan.instanceId] = h;
          const r = this.target(plan.instanceId).replication;
          await startReplication(ctx, this.target(plan.instanceId));
          this.events.add('repair', `restarted replication on ${plan.instanceId} after IO error ${r?.lastIoErrno ?? '?'} (attempt ${h.attempts})`, { instance: plan.instanceId, errno: r?.lastIoErrno, attempt: h.attempts });
          return;
        }
        case 'rejoin':
          await this.runRejoin(plan.instanceId);
          return;
      }
    } catch (err) {
      if (err instanceof ErrantGtidError) return;
      this.events.add('recovery-failed', `${plan.action} failed: ${errorText(err)}`, { plan });
    }
  }

  /**
   * Read-only and clients cut, then report what it holds that the primary lacks. Such an instance
   * stays fenced: nothing here ever makes it writable again (only an operator's switchover can).
   */
  private async runFence(id: string, snap: TopologySnapshot): Promise<void> {
    const r = await fenceInstance(this.recoveryContext(), this.target(id), { killConnections: true });
    const primary = snap.primaryId ? snap.instances.find((i) => i.id === snap.primaryId) : undefined;
    const errantGtids = primary?.reachable ? errantBetween(r.state.gtidBinlogState, primary.gtidBinlogState, primary.serverId) : (this.knownErrant[id] ?? []);
    if (errantGtids.length > 0) this.knownErrant[id] = errantGtids;
    const wasFenced = this.quarantined[id];
    this.quarantined[id] ??= 'was writable beside the primary';
    const why = wasFenced ? `it came back writable (${wasFenced})` : `writable beside the primary ${this.primaryId}`;
    const errantText = errantGtids.length > 0 ? `; errant GTIDs ${errantGtids.join(',')}` : primary?.reachable ? '; no errant GTIDs' : '';
    this.events.add('fence', `fenced ${id}: ${why}; ${r.killed} client connection(s) killed${errantText}`, { instance: id, killed: r.killed, errantGtids, gtidBinlogState: r.state.gtidBinlogState });
  }

  private noteSemiSync(primaryId: string, waiting: boolean, reason: string): void {
    this.metrics.semiSyncWaiting.set(waiting ? 1 : 0);
    this.metrics.semiSyncChanges.inc({ waiting: waiting ? 'on' : 'off' });
    const message = waiting
      ? `semi-sync waiting on for ${primaryId}: ${reason}; a commit is acknowledged only once a replica has it`
      : `semi-sync waiting off for ${primaryId}: ${reason}; commits are acknowledged without a replica (a crash of ${primaryId} can lose them)`;
    this.events.add('semi-sync', message, { instance: primaryId, waiting, reason });
  }

  private async runFailover(snap: TopologySnapshot, candidateId: string): Promise<FailoverResult> {
    const old = snap.primaryId ? snap.instances.find((i) => i.id === snap.primaryId) : undefined;
    const detectedAfterMs = old?.firstFailureAt ? snap.now - old.firstFailureAt : null;
    // Not pause(): a heartbeat write in flight hangs on a hung primary for its whole timeout.
    this.heartbeat.abandon();
    try {
      // Only the primary changes in the intent: if the promotion never happens, the old primary must stay choosable.
      const candidate = this.states.get(candidateId);
      if (candidate) await this.stateKeeper.recordIntent(candidate, { ...this.durableState(), primaryId: candidateId }, this.deps.election?.generation ?? 0);
      const r = await failover(this.recoveryContext(), snap, candidateId, { relayApplyTimeoutMs: 30_000 }, {
        promoted: async (id) => {
          // Clients (the app, the writer in tests) follow the published primary: name it as soon as it takes writes.
          this.primaryId = id;
          if (old) this.quarantined[old.id] = `old primary, failed over at ${new Date().toISOString()}`;
          delete this.quarantined[id];
          await this.publishIfChanged();
        },
      });
      this.primaryId = r.newPrimaryId;
      if (r.oldPrimaryId) this.quarantined[r.oldPrimaryId] ??= `old primary, failed over at ${new Date().toISOString()}`;
      delete this.quarantined[r.newPrimaryId];
      this.lastFailoverAt = Date.now();
      this.metrics.failovers.inc();
      this.metrics.lastFailoverSeconds.set(r.durationMs / 1000);
      this.events.add('failover', `failed over from ${r.oldPrimaryId} to ${r.newPrimaryId} in ${r.durationMs} ms`, { ...r, detectedAfterMs });
      if (r.semiSyncWaiting !== null) {
        this.noteSemiSync(r.newPrimaryId, r.semiSyncWaiting, r.semiSyncWaiting ? 'promoted with semi-sync replicas to acknowledge' : 'promoted with no semi-sync replica left');
      }
      await this.publishIfChanged();
      void this.saveDurableState();
      return r;
    } finally {
      this.heartbeat.resume();
    }
  }

  private async runRejoin(id: string): Promise<void> {
    const primary = this.primaryId ? this.states.get(this.primaryId) : undefined;
    if (!primary) throw new ConflictError('no primary to rejoin to');
    if (this.quarantined[id]?.startsWith(RESEEDING)) {
      // An interrupted re-seed: copy again (at most once per retry interval), do not attach partial data.
      if (Date.now() - (this.reseedAttemptAt[id] ?? 0) < RESEED_RETRY_MS) return;
      this.reseedAttemptAt[id] = Date.now();
      await this.runReseed(id);
      return;
    }
    try {
      await rejoin(this.recoveryContext(), this.target(id), primary);
      delete this.quarantined[id];
      delete this.knownErrant[id];
      this.events.add('rejoin', `${id} rejoined as a replica of ${primary.id}`, { instance: id, primary: primary.id });
    } catch (err) {
      if (err instanceof ErrantGtidError) {
        this.quarantined[id] = `errant GTIDs ${err.errantGtids.join(',')}`;
        this.knownErrant[id] = err.errantGtids;
        this.events.add('quarantine', err.message, { instance: id, errantGtids: err.errantGtids });
      }
      throw err;
    }
  }

  /** A fenced instance with errant GTIDs is re-seeded from the primary (analysis/reseed-choice.ts decides which, when). */
  private async reseedIfErrant(snap: TopologySnapshot): Promise<void> {
    const id = chooseReseed(snap, this.analysis?.errant ?? {}, { enabled: this.options.reseedErrant ?? false, lastAttemptAt: this.reseedAttemptAt });
    if (id === null) return;
    this.reseedAttemptAt[id] = Date.now();
    await this.exclusive(`reseed ${id}`, () => this.runReseed(id)).catch(() => undefined);
  }

  private async runReseed(id: string): Promise<ReseedResult> {
    const primary = this.primaryId ? this.states.get(this.primaryId) : undefined;
    if (!primary?.reachable) throw new ConflictError('the primary is not reachable: nothing to copy from');
    // Recorded before anything is discarded: a copy cut short (manager killed) leaves a read-only instance
    // with no errant GTIDs and partial data, which must be copied again, never rejoined as it is.
    this.quarantined[id] = `${RESEEDING} from ${primary.id} since ${new Date().toISOString()}`;
    await this.saveDurableState();
    try {
      const r = await reseed(this.recoveryContext(), this.target(id), primary, { exportDir: this.options.errantExportDir ?? 'errant-transactions', copyTimeoutMs: 30 * 60_000 });
      if (r.export) this.events.add('reseed', `errant transactions of ${id} (${r.errantGtids.join(',')}) exported to ${r.export.path}`, { instance: id, errantGtids: r.errantGtids, file: r.export.path, transactions: r.export.transactions });
      delete this.quarantined[id];
      delete this.knownErrant[id];
      this.events.add('reseed', `re-seeded ${id} from ${primary.id} in ${r.durationMs} ms; it replicates from ${primary.id}`, { ...r });
      void this.saveDurableState();
      return r;
    } catch (err) {
      this.events.add('recovery-failed', `re-seeding ${id} failed: ${errorText(err)}`, { instance: id });
      throw err;
    }
  }

  /** POST /api/rebuild and `dramble rebuild`: re-seed one instance from the primary, errant GTIDs or not. */
  async rebuildInstance(id: string): Promise<ReseedResult> {
    this.target(id);
    if (!this.isLeader) throw new ConflictError(`this manager is not the leader (leader: ${this.deps.election?.holder ?? 'unknown'})`);
    if (id === this.primaryId) throw new ConflictError(`${id} is the primary: switch over first`);
    if (!this.states.get(id)!.reachable) throw new ConflictError(`${id} is not reachable`);
    this.reseedAttemptAt[id] = Date.now();
    return this.exclusive(`rebuild ${id}`, () => this.runReseed(id));
  }

  /** POST /api/switchover: to `targetId` or the best replica. */
  async switchover(targetId?: string): Promise<SwitchoverResult> {
    if (targetId !== undefined) this.target(targetId);
    if (!this.isLeader) throw new ConflictError(`this manager is not the leader (leader: ${this.deps.election?.holder ?? 'unknown'})`);
    const snap = this.snapshot();
    const primary = this.primaryId ? this.states.get(this.primaryId) : undefined;
    if (!primary?.reachable) throw new ConflictError('the primary is not reachable: a switchover needs a live primary');
    if (targetId === primary.id) throw new ConflictError(`${targetId} is already the primary`);
    const { candidate, rejected } = chooseCandidate(snap, analyze(snap).errant, targetId === undefined ? {} : { target: targetId });
    if (!candidate) throw new ConflictError(`no eligible switchover target: ${rejected.map((r) => `${r.id}: ${r.reason}`).join('; ')}`, { rejected });
    return this.exclusive(`switchover to ${candidate.id}`, async () => {
      await this.heartbeat.pause();
      try {
        await this.stateKeeper.recordIntent(candidate, { ...this.durableState(), primaryId: candidate.id }, this.deps.election?.generation ?? 0);
        const r = await switchover(this.recoveryContext(), snap, candidate.id, { timeoutMs: this.options.switchoverTimeoutMs }, {
          promoted: async (id) => {
            this.primaryId = id;
            delete this.quarantined[id];
            await this.publishIfChanged();
            void this.saveDurableState();
          },
        });
        this.metrics.switchovers.inc();
        this.metrics.lastSwitchoverSeconds.set(r.durationMs / 1000);
        this.events.add('switchover', `switched over from ${r.oldPrimaryId} to ${r.newPrimaryId} in ${r.durationMs} ms (writes refused ${r.readOnlyMs} ms)`, { ...r });
        return r;
      } catch (err) {
        this.events.add('recovery-failed', `switchover failed: ${errorText(err)}`);
        throw err;
      } finally {
        this.heartbeat.resume();
      }
    });
  }

  /** POST /api/instances/:id/rejoin. */
  async rejoinInstance(id: string): Promise<void> {
    this.target(id);
    if (!this.isLeader) throw new ConflictError('this manager is not the leader');
    if (id === this.primaryId) throw new ConflictError(`${id} is the primary`);
    const primary = this.primaryId ? this.states.get(this.primaryId) : undefined;
    if (!primary?.reachable) throw new ConflictError('the primary is not reachable');
    if (!this.states.get(id)!.reachable) throw new ConflictError(`${id} is not reachable`);
    await this.exclusive(`rejoin ${id}`, async () => {
      try {
        await this.runRejoin(id);
      } catch (err) {
        if (err instanceof ErrantGtidError) throw new ConflictError(err.message, { errantGtids: err.errantGtids });
        throw err;
      }
    });
  }

  published(): PublishedTopology {
    const snap = this.snapshot();
    const p = this.primaryId ? this.states.get(this.primaryId) : undefined;
    const errant = this.analysis?.errant ?? {};
    const replicas = snap.instances
      .filter((i) => i.id !== this.primaryId && i.reachable && this.primaryId !== null && replicatesFrom(snap, i, this.primaryId) && i.replication?.sqlRunning && this.quarantined[i.id] === undefined && !(errant[i.id]?.length))
      .map((i) => ({ id: i.id, host: i.host, port: i.port, lagSeconds: roundLag(lagSeconds(snap, i)) }));
    return { epoch: this.epoch, primary: p ? { id: p.id, host: p.host, port: p.port } : null, replicas };
  }

  private async publishIfChanged(): Promise<void> {
    if (!this.isLeader) return;
    const t = this.published();
    const signature = JSON.stringify([t.primary?.id ?? null, t.replicas.map((r) => r.id).sort()]);
    const changed = signature !== this.publishedSignature;
    if (!changed && Date.now() - this.publishedAt < REPUBLISH_MS) return;
    try {
      // The durable state's epoch counts too: a restarted manager with a local publisher starts from 0.
      if (changed) this.epoch = Math.max(await this.publisher.nextEpoch(), this.epoch + 1);
      const out = { ...t, epoch: this.epoch };
      await this.publisher.publish(out);
      this.publishedAt = Date.now();
      if (changed) {
        this.publishedSignature = signature;
        this.events.add('step', `published topology epoch ${this.epoch}: primary ${out.primary?.id ?? 'none'}, replicas ${out.replicas.map((r) => r.id).join(', ') || 'none'}`, { epoch: this.epoch });
        await this.deps.onTopologyChange?.(out);
      }
    } catch (err) {
      this.deps.logger.warn({ err: errorText(err) }, 'publishing the topology failed; retrying next probe');
    }
  }

  view(): TopologyView {
    const snap = this.snapshot();
    const a = this.analysis ?? analyze(snap);
    const instances = snap.instances.map((i): InstanceView => {
      const errant = a.errant[i.id] ?? [];
      const role = roleOf(snap, i, errant, this.quarantined[i.id]);
      const r = i.replication;
      const healthy =
        i.reachable &&
        (role === 'primary' ? i.readOnly === false : role === 'replica' && r !== null && r.ioRunning === 'Yes' && r.sqlRunning && i.readOnly === true);
      return {
        id: i.id, host: i.host, port: i.port, role, reachable: i.reachable, healthy, readOnly: i.readOnly, serverId: i.serverId,
        lagSeconds: roundLag(lagSeconds(snap, i)), gtid: i.gtidCurrentPos, gtidBinlogPos: i.gtidBinlogPos,
        replication: r ? { source: `${r.sourceHost}:${r.sourcePort}`, ioRunning: r.ioRunning, sqlRunning: r.sqlRunning, lastIoError: r.lastIoError, lastSqlError: r.lastSqlError } : null,
        semiSync: i.semiSync, quarantined: this.quarantined[i.id] ?? null, errantGtids: errant, lastError: i.lastError,
      };
    });
    return { primary: this.primaryId, epoch: this.epoch, leader: this.isLeader, problem: a.problem, problems: a.problems, instances };
  }

  eventList(limit?: number): ManagerEvent[] {
    return this.events.list(limit);
  }

  addEvent(type: EventType, message: string, data?: Record<string, unknown>): void {
    this.events.add(type, message, data);
  }
}

function roleOf(s: TopologySnapshot, i: InstanceSnapshot, errant: string[], quarantined: string | undefined): Role {
  if (i.id === s.primaryId) return 'primary';
  if (!i.reachable) return 'down';
  if (quarantined !== undefined || errant.length > 0) return 'fenced';
  return i.replication !== null ? 'replica' : 'standalone';
}

function roundLag(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 1000;
}
