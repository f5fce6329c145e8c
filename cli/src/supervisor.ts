// Keeps the processes of a running `dramble up`: starts them, records them in cluster.json,
// restarts one on request, and stops them all in reverse start order.
import { readFileSync } from 'node:fs';
import { startProcess, stopPid, isAlive, procStartTime, waitFor, type Started } from './local/process.js';
import { writeCluster, type ClusterFile, type ProcessEntry } from './state.js';

export interface ManagedSpec extends ProcessEntry {
  cwd?: string;
  /** Added to the inherited environment: the secrets, kept off the command line and out of cluster.json. */
  env?: Record<string, string>;
  /** Resolves true once the process does its job (accepts connections, /readyz answers...). */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
  /** How long SIGTERM may take before SIGKILL. */
  graceMs: number;
  /** Adjusts the command line for a restart (e.g. a MySQL server comes back read-only). */
  restartArgs?: (args: string[]) => string[];
}

export class ProcessFailedError extends Error {
  /** Ends a waitFor at once instead of being retried. */
  readonly fatal = true;
  constructor(readonly process: string, readonly reason: string, readonly logTail: string) {
    super(`${process} ${reason}${logTail ? `\n--- last lines of its log ---\n${logTail}` : ''}`);
    this.name = 'ProcessFailedError';
  }
}

export class StoppingError extends Error {
  readonly fatal = true;
  constructor() {
    super('the cluster is stopping');
    this.name = 'StoppingError';
  }
}

export function tailFile(file: string | undefined, lines = 15): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function toEntry(s: ManagedSpec): ProcessEntry {
  const e: ProcessEntry = { name: s.name, role: s.role, pid: s.pid, port: s.port, marker: s.marker, command: s.command, args: s.args };
  if (s.url) e.url = s.url;
  if (s.adminUrl) e.adminUrl = s.adminUrl;
  if (s.log) e.log = s.log;
  if (s.startTime !== undefined) e.startTime = s.startTime;
  return e;
}

export class Supervisor {
  private readonly managed: Array<{ spec: ManagedSpec; handle?: Started }> = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    readonly cluster: ClusterFile,
    private readonly say: (line: string) => void,
  ) {}

  /** Entries that are not child processes (the supervisor itself). */
  readonly fixed: ProcessEntry[] = [];

  save(): void {
    this.cluster.processes = [...this.fixed, ...this.managed.map((m) => toEntry(m.spec))];
    writeCluster(this.dir, this.cluster);
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Starts a process and waits until it is ready; a process that exits first fails with its log. */
  async start(spec: ManagedSpec): Promise<void> {
    let slot = this.managed.find((m) => m.spec.name === spec.name);
    if (!slot) {
      slot = { spec };
      this.managed.push(slot);
    }
    if (this.stopping) throw new StoppingError();
    // Checked right before the (synchronous) spawn: a stop that began earlier never misses it.
    const handle = startProcess({ command: spec.command, args: spec.args, log: spec.log ?? '/dev/null', ...(spec.cwd ? { cwd: spec.cwd } : {}), ...(spec.env ? { env: { ...process.env, ...spec.env } } : {}) });
    slot.handle = handle;
    spec.pid = handle.pid;
    const startTime = procStartTime(handle.pid);
    if (startTime !== undefined) spec.startTime = startTime;
    this.save();
    let exit: number | NodeJS.Signals | null | undefined;
    void handle.exited.then((code) => {
      exit = code;
      if (slot.handle === handle && !this.stopping) this.say(`  ! ${spec.name} (pid ${handle.pid}) exited${code === null ? '' : ` with ${code}`}`);
    });
    await waitFor(`${spec.name} to become ready`, spec.readyTimeoutMs, async () => {
      if (this.stopping) throw new StoppingError();
      if (exit !== undefined) throw new ProcessFailedError(spec.name, `exited during start (${String(exit)})`, tailFile(spec.log));
      return (await spec.ready()) ? true : undefined;
    }, 150).catch((err: unknown) => {
      if (err instanceof ProcessFailedError || err instanceof StoppingError) throw err;
      throw new ProcessFailedError(spec.name, (err as Error).message, tailFile(spec.log));
    });
  }

  names(): string[] {
    return this.managed.map((m) => m.spec.name);
  }

  /** Stops one process (if running) and starts it again with the same ports and data. */
  async restart(name: string): Promise<ProcessEntry> {
    const slot = this.managed.find((m) => m.spec.name === name);
    if (!slot) throw new Error(`no process named ${name} (known: ${this.names().join(', ')})`);
    if (isAlive(slot.spec.pid)) await stopPid(slot.spec.pid, slot.spec.graceMs);
    if (slot.spec.restartArgs) slot.spec.args = slot.spec.restartArgs(slot.spec.args);
    slot.handle = undefined;
    await this.start(slot.spec);
    return slot.spec;
  }

  /** Stops every process in reverse start order; safe to call more than once. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      this.cluster.state = 'stopping';
      this.save();
      for (const { spec } of [...this.managed].reverse()) {
        if (!isAlive(spec.pid)) continue;
        const t0 = Date.now();
        const how = await stopPid(spec.pid, spec.graceMs);
        this.say(`  stopped ${spec.name} (pid ${spec.pid}, ${how}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
      this.cluster.state = 'stopped';
      this.save();
    })();
    return this.stopping;
  }
}
