// A fake Kubernetes API server for tests: a small HTTP server that speaks the real REST and watch
// protocol (as @kubernetes/client-node 1.x sends it) for pods, services, endpointslices and leases.
// No API server can be installed here, so this is the one fake in the test suite; it is strict where
// the real server is strict (bearer token, resourceVersion conflicts, MicroTime format, patch types).
//
//   const kube = await startKubeApi();            after(() => kube.close());
//   kube.put({ kind: 'Pod', metadata: { name: 'db-0', labels: { app: 'mysql' } }, status: { podIP: '10.0.0.5' } });
//   const core = kube.kubeConfig.makeApiClient(CoreV1Api);        // or KUBECONFIG=kube.writeKubeConfig() for a spawned process
//   kube.requests.map((r) => `${r.resource} ${r.verb}`)            // which calls the code made
//   kube.closeWatches({ abrupt: true }); kube.addFault({ match: (r) => r.verb === 'watch', status: 503 });  // chaos
//
// Strategic merge patch is applied as a JSON merge patch (same result for labels, annotations and scalar
// fields; lists are replaced, not merged by key). Server-side apply is refused with 415.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  generateName?: string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind: string;
  metadata: KubeObjectMeta;
  [k: string]: unknown;
}

/** One request as the fake saw it; `verb` is the Kubernetes/RBAC verb (get, list, watch, create, update, patch, delete). */
export interface KubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  verb: string;
  group: string;
  resource: string;
  namespace: string | null;
  name: string | null;
  contentType: string | null;
  status: number;
}

export interface KubeFault {
  /** Which requests fail (default: all). */
  match?: (req: KubeRequest) => boolean;
  /** HTTP status to answer with (default 500). */
  status?: number;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject | Record<string, unknown>;
}

export interface KubeApiServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  token: string;
  /** A client config pointing at this server (cluster "fake", namespace "default", bearer token). */
  kubeConfig: KubeConfig;
  /** Writes a kubeconfig file (for spawned processes: KUBECONFIG=<path>) and returns its path. */
  writeKubeConfig(dir?: string): string;
  /** Every API request so far, oldest first. */
  readonly requests: KubeRequest[];
  clearRequests(): void;
  /** Current resourceVersion of the store (increments on every change). */
  readonly resourceVersion: number;
  /** Creates or replaces an object (kind: Pod, Service, EndpointSlice, Lease); emits ADDED/MODIFIED. Returns the stored copy. */
  put(obj: KubeObject): KubeObject;
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  list(kind: string, namespace?: string): KubeObject[];
  /** Applies a JSON merge patch (RFC 7386) to a stored object; emits MODIFIED. */
  patch(kind: string, namespace: string, name: string, mergePatch: Record<string, unknown>): KubeObject;
  /** Deletes an object; emits DELETED. Returns false when it did not exist. */
  delete(kind: string, namespace: string, name: string): boolean;
  /** Number of watch connections currently open (optionally for one kind). */
  openWatches(kind?: string): number;
  /** Ends every open watch: cleanly (the client re-watches from its last resourceVersion) or abruptly (socket destroyed). */
  closeWatches(opts?: { abrupt?: boolean }): void;
  /** Forgets the event history so a watch from an older resourceVersion gets 410 Gone (ERROR event), like etcd compaction. */
  compact(): void;
  /** Makes the next matching request(s) fail with the given status. */
  addFault(fault: KubeFault): void;
  /** Removes every pending fault. */
  clearFaults(): void;
  close(): Promise<void>;
}

interface ResourceDef {
  kind: string;
  group: string; // '' = core
  version: string;
  resource: string;
}

const RESOURCES: ResourceDef[] = [
  { kind: 'Pod', group: '', version: 'v1', resource: 'pods' },
  { kind: 'Service', group: '', version: 'v1', resource: 'services' },
  { kind: 'ConfigMap', group: '', version: 'v1', resource: 'configmaps' },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  { kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
];

function defByKind(kind: string): ResourceDef {
  const def = RESOURCES.find((r) => r.kind === kind);
  if (!def) throw new Error(`fake kube-api does not serve kind ${kind} (known: ${RESOURCES.map((r) => r.kind).join(', ')})`);
  return def;
}

function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function statusBody(err: StatusError): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, details: err.details, code: err.code };
}

interface StoredEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  def: ResourceDef;
  object: KubeObject;
  old: KubeObject | undefined;
}

interface OpenWatch {
  def: ResourceDef;
  namespace: string | null;
  selector: Selector;
  fieldSelector: FieldSelector;
  res: http.ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

// ---- label and field selectors ----------------------------------------------------------

type Requirement = (labels: Record<string, string>) => boolean;
type Selector = Requirement[];

/** Parses the label selector grammar kubectl and the API server accept: k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b). */
function parseLabelSelector(text: string | undefined): Selector {
  if (!text) return [];
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p): Requirement => {
      let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
      if (m) {
        const key = m[1] as string;
        const values = (m[3] as string).split(',').map((v) => v.trim());
        return m[2] === 'in' ? (l) => l[key] !== undefined && values.includes(l[key]) : (l) => l[key] === undefined || !values.includes(l[key]);
      }
      m = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(p);
      if (m) {
        const key = m[1] as string;
        const value = m[3] as string;
        return m[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
      }
      m = /^!\s*(\S+)$/.exec(p);
      if (m) {
        const key = m[1] as string;
        return (l) => l[key] === undefined;
      }
      if (/^[^\s!=(),]+$/.test(p)) return (l) => l[p] !== undefined;
      throw new StatusError(400, 'BadRequest', `unable to parse requirement: ${p}`);
    });
}

type FieldSelector = Array<(obj: KubeObject) => boolean>;

function parseFieldSelector(text: string | undefined): FieldSelector {
  if (!text) return [];
  return text.split(',').map((p) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(p.trim());
    if (!m) throw new StatusError(400, 'BadRequest', `invalid field selector: ${p}`);
    const path = (m[1] as string).split('.');
    const want = m[3] as string;
    const neg = m[2] === '!=';
    return (obj: KubeObject) => {
      let v: unknown = obj;
      for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      const eq = String(v ?? '') === want;
      return neg ? !eq : eq;
    };
  });
}

function matches(obj: KubeObject, sel: Selector, fsel: FieldSelector): boolean {
  const labels = obj.metadata.labels ?? {};
  return sel.every((r) => r(labels)) && fsel.every((f) => f(obj));
}

// ---- patches ------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch. */
function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new StatusError(400, 'BadRequest', 'json patch must be an array of operations');
  let root: unknown = structuredClone(doc);
  const parse = (path: unknown): string[] => {
    if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw new StatusError(422, 'Invalid', `invalid json patch path ${String(path)}`);
    return path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  };
  const parentOf = (tokens: string[]): { parent: Record<string, unknown> | unknown[]; key: string } => {
    let cur: unknown = root;
    for (const t of tokens.slice(0, -1)) {
      cur = Array.isArray(cur) ? cur[Number(t)] : isPlainObject(cur) ? cur[t] : undefined;
      if (cur === undefined) throw new StatusError(422, 'Invalid', `json patch: path /${tokens.join('/')} does not exist`);
    }
    if (!Array.isArray(cur) && !isPlainObject(cur)) throw new StatusError(422, 'Invalid', `json patch: parent of /${tokens.join('/')} is not a container`);
    return { parent: cur, key: tokens[tokens.length - 1] as string };
  };
  const getAt = (tokens: string[]): unknown => {
    if (tokens.length === 0) return root;
    const { parent, key } = parentOf(tokens);
    const v = Array.isArray(parent) ? parent[Number(key)] : parent[key];
    if (v === undefined) throw new StatusError(422, 'Invalid', `json patch: path /${tokens.join('/')} does not exist`);
    return v;
  };
  const remove = (tokens: string[]): unknown => {
    const v = getAt(tokens);
    const { parent, key } = parentOf(tokens);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
    return v;
  };
  const add = (tokens: string[], value: unknown): void => {
    if (tokens.length === 0) {
      root = value;
      return;
    }
    const { parent, key } = parentOf(tokens);
    if (Array.isArray(parent)) {
      const idx = key === '-' ? parent.length : Number(key);
      if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw new StatusError(422, 'Invalid', `json patch: bad array index ${key}`);
      parent.splice(idx, 0, value);
    } else parent[key] = value;
  };
  for (const raw of ops) {
    if (!isPlainObject(raw)) throw new StatusError(400, 'BadRequest', 'json patch operation must be an object');
    const tokens = parse(raw['path']);
    switch (raw['op']) {
      case 'add':
        add(tokens, structuredClone(raw['value']));
        break;
      case 'remove':
        remove(tokens);
        break;
      case 'replace':
        getAt(tokens);
        if (tokens.length === 0) root = structuredClone(raw['value']);
        else {
          const { parent, key } = parentOf(tokens);
          if (Array.isArray(parent)) parent[Number(key)] = structuredClone(raw['value']);
          else parent[key] = structuredClone(raw['value']);
        }
        break;
      case 'move':
        add(tokens, remove(parse(raw['from'])));
        break;
      case 'copy':
        add(tokens, structuredClone(getAt(parse(raw['from']))));
        break;
      case 'test':
        if (JSON.stringify(getAt(tokens)) !== JSON.stringify(raw['value'])) throw new StatusError(422, 'Invalid', `json patch test failed at ${String(raw['path'])}`);
        break;
      default:
        throw new StatusError(400, 'BadRequest', `json patch: unknown op ${String(raw['op'])}`);
    }
  }
  return root;
}

// MicroTime fields must carry exactly six fractional digits, as the API server's Go parser demands.
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

function validate(def: ResourceDef, obj: KubeObject): void {
  if (def.kind === 'Lease') {
    const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
    for (const f of ['acquireTime', 'renewTime']) {
      const v = spec[f];
      if (v !== undefined && v !== null && (typeof v !== 'string' || !MICRO_TIME.test(v))) {
        throw new StatusError(400, 'BadRequest', `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00"`);
      }
    }
    const d = spec['leaseDurationSeconds'];
    if (d !== undefined && (typeof d !== 'number' || !Number.isInteger(d))) throw new StatusError(400, 'BadRequest', 'spec.leaseDurationSeconds must be an integer');
  }
  const labels = obj.metadata.labels;
  if (labels) {
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) {
        throw new StatusError(422, 'Invalid', `metadata.labels: Invalid value: "${String(v)}" for label ${k}`);
      }
    }
  }
}

// ---- the server --------------------------------------------------------------------------

export async function startKubeApi(opts: { token?: string; namespace?: string } = {}): Promise<KubeApiServer> {
  const token = opts.token ?? 'fake-kube-token';
  const defaultNamespace = opts.namespace ?? 'default';
  const store = new Map<string, KubeObject>();
  const history: StoredEvent[] = [];
  let minRv = 1; // the oldest resourceVersion a watch can start from without missing events
  let rv = 1;
  let uidSeq = 0;
  const watches = new Set<OpenWatch>();
  const requests: KubeRequest[] = [];
  const faults: Array<Required<Omit<KubeFault, 'match'>> & { match: (r: KubeRequest) => boolean }> = [];

  const key = (def: ResourceDef, ns: string, name: string): string => `${def.kind}/${ns}/${name}`;
  const clone = <T>(v: T): T => structuredClone(v);

  function commit(def: ResourceDef, type: StoredEvent['type'], obj: KubeObject, old: KubeObject | undefined): KubeObject {
    rv += 1;
    const stored = clone(obj);
    stored.apiVersion = apiVersionOf(def);
    stored.kind = def.kind;
    stored.metadata.resourceVersion = String(rv);
    const k = key(def, stored.metadata.namespace ?? '', stored.metadata.name);
    if (type === 'DELETED') store.delete(k);
    else store.set(k, stored);
    const ev: StoredEvent = { rv, type, def, object: stored, old };
    history.push(ev);
    if (history.length > 5000) {
      history.splice(0, 1000);
      minRv = (history[0]?.rv ?? rv + 1) - 1;
    }
    for (const w of watches) deliver(w, ev);
    return clone(stored);
  }

  function write(w: OpenWatch, event: WatchEvent): void {
    if (!w.res.writableEnded && !w.res.destroyed) w.res.write(JSON.stringify(event) + '\n');
  }

  // A watch with a selector sees an object that stops matching as DELETED and one that starts matching as ADDED.
  function deliver(w: OpenWatch, ev: StoredEvent): void {
    if (w.def !== ev.def) return;
    if (w.namespace !== null && ev.object.metadata.namespace !== w.namespace) return;
    const now = matches(ev.object, w.selector, w.fieldSelector);
    if (ev.type === 'MODIFIED') {
      const before = ev.old !== undefined && matches(ev.old, w.selector, w.fieldSelector);
      if (now && before) write(w, { type: 'MODIFIED', object: ev.object });
      else if (now) write(w, { type: 'ADDED', object: ev.object });
      else if (before) write(w, { type: 'DELETED', object: ev.object });
    } else if (now) write(w, { type: ev.type, object: ev.object });
  }

  function create(def: ResourceDef, ns: string, body: KubeObject): KubeObject {
    const meta = (body.metadata ?? {}) as KubeObjectMeta;
    let name = meta.name;
    if (!name && meta.generateName) name = `${meta.generateName}${Math.random().toString(36).slice(2, 7)}`;
    if (!name) throw new StatusError(422, 'Invalid', `${def.kind} "": metadata.name: Required value`);
    if (store.has(key(def, ns, name))) {
      throw new StatusError(409, 'AlreadyExists', `${def.resource}${def.group ? '.' + def.group : ''} "${name}" already exists`, { name, group: def.group, kind: def.resource });
    }
    const obj: KubeObject = { ...clone(body), kind: def.kind, metadata: { ...clone(meta), name, namespace: ns, uid: `uid-${++uidSeq}`, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } };
    delete obj.metadata.resourceVersion;
    validate(def, obj);
    return commit(def, 'ADDED', obj, undefined);
  }

  function existing(def: ResourceDef, ns: string, name: string): KubeObject {
    const cur = store.get(key(def, ns, name));
    if (!cur) throw new StatusError(404, 'NotFound', `${def.resource}${def.group ? '.' + def.group : ''} "${name}" not found`, { name, group: def.group, kind: def.resource });
    return cur;
  }

  function conflict(def: ResourceDef, name: string): StatusError {
    return new StatusError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${def.resource}${def.group ? '.' + def.group : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: def.group, kind: def.resource },
    );
  }

  // Fields the server owns (uid, creationTimestamp) survive a replace; resourceVersion must match when given.
  function replace(def: ResourceDef, ns: string, name: string, body: KubeObject): KubeObject {
    const cur = existing(def, ns, name);
    if (body.metadata?.name !== undefined && body.metadata.name !== name) throw new StatusError(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    const want = body.metadata?.resourceVersion;
    if (want !== undefined && want !== '' && want !== cur.metadata.resourceVersion) throw conflict(def, name);
    const obj: KubeObject = { ...clone(body), kind: def.kind, metadata: { ...clone(body.metadata ?? { name }), name, namespace: ns, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp } };
    validate(def, obj);
    return commit(def, 'MODIFIED', obj, cur);
  }

  function patchObject(def: ResourceDef, ns: string, name: string, contentType: string, body: unknown): KubeObject {
    const cur = clone(existing(def, ns, name));
    let next: unknown;
    if (contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json') {
      // Strategic merge patch is treated as a JSON merge patch: identical for maps (labels, annotations, spec
      // scalars); lists are replaced rather than merged by key.
      if (!isPlainObject(body)) throw new StatusError(400, 'BadRequest', 'merge patch body must be a JSON object');
      const wantRv = isPlainObject(body['metadata']) ? body['metadata']['resourceVersion'] : undefined;
      if (typeof wantRv === 'string' && wantRv !== cur.metadata.resourceVersion) throw conflict(def, name);
      next = mergePatch(cur, body);
    } else if (contentType === 'application/json-patch+json') {
      next = jsonPatch(cur, body);
    } else {
      throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`);
    }
    if (!isPlainObject(next) || !isPlainObject(next['metadata'])) throw new StatusError(422, 'Invalid', 'patch removed metadata');
    const obj = next as KubeObject;
    obj.metadata.name = name;
    obj.metadata.namespace = ns;
    obj.metadata.uid = cur.metadata.uid;
    validate(def, obj);
    return commit(def, 'MODIFIED', obj, cur);
  }

  function remove(def: ResourceDef, ns: string, name: string): KubeObject {
    const cur = existing(def, ns, name);
    return commit(def, 'DELETED', cur, cur);
  }

  function listObjects(def: ResourceDef, ns: string | null, sel: Selector, fsel: FieldSelector): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of store.values()) {
      if (obj.kind !== def.kind) continue;
      if (ns !== null && obj.metadata.namespace !== ns) continue;
      if (matches(obj, sel, fsel)) out.push(clone(obj));
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  function startWatch(def: ResourceDef, ns: string | null, query: Record<string, string>, res: http.ServerResponse): void {
    const w: OpenWatch = { def, namespace: ns, selector: parseLabelSelector(query['labelSelector']), fieldSelector: parseFieldSelector(query['fieldSelector']), res, timer: undefined };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    const from = query['resourceVersion'];
    if (from === undefined || from === '' || from === '0') {
      // No resourceVersion: the current state as synthetic ADDED events, then changes.
      for (const obj of listObjects(def, ns, w.selector, w.fieldSelector)) write(w, { type: 'ADDED', object: obj });
    } else {
      const n = Number(from);
      if (!Number.isFinite(n) || n < minRv) {
        // Too old: the real server answers 200 with an ERROR event carrying 410 Gone, then ends the stream.
        write(w, { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${minRv})`, reason: 'Expired', code: 410 } });
        res.end();
        return;
      }
      for (const ev of history) if (ev.rv > n) deliver(w, ev);
    }
    if (query['allowWatchBookmarks'] === 'true') write(w, { type: 'BOOKMARK', object: { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(rv) } } });
    const timeout = Number(query['timeoutSeconds']);
    if (Number.isFinite(timeout) && timeout > 0) w.timer = setTimeout(() => res.end(), timeout * 1000);
    watches.add(w);
    const drop = (): void => {
      watches.delete(w);
      if (w.timer) clearTimeout(w.timer);
    };
    res.on('close', drop);
    res.on('finish', drop);
  }

  // /api/v1[/namespaces/{ns}]/{resource}[/{name}] and /apis/{group}/{version}[/namespaces/{ns}]/{resource}[/{name}]
  function route(path: string): { def: ResourceDef; namespace: string | null; name: string | null } | null {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group = '';
    let version: string | undefined;
    let rest: string[];
    if (parts[0] === 'api') {
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis') {
      group = parts[1] ?? '';
      version = parts[2];
      rest = parts.slice(3);
    } else return null;
    let namespace: string | null = null;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1] ?? null;
      rest = rest.slice(2);
    }
    if (rest.length < 1 || rest.length > 2) return null;
    const def = RESOURCES.find((r) => r.group === group && r.version === version && r.resource === rest[0]);
    if (!def) return null;
    return { def, namespace, name: rest[1] ?? null };
  }

  function verbOf(method: string, name: string | null, query: Record<string, string>): string {
    const watch = query['watch'] === 'true' || query['watch'] === '1';
    switch (method) {
      case 'GET':
        return watch ? 'watch' : name ? 'get' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return name ? 'delete' : 'deletecollection';
      default:
        return method.toLowerCase();
    }
  }

  async function readBody(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new StatusError(400, 'BadRequest', 'request body is not valid JSON');
    }
  }

  function send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(u.searchParams.entries());
    const r = route(u.pathname);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() || null;
    const record: KubeRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query,
      verb: verbOf(req.method ?? 'GET', r?.name ?? null, query),
      group: r?.def.group ?? '',
      resource: r?.def.resource ?? '',
      namespace: r?.namespace ?? null,
      name: r?.name ?? null,
      contentType,
      status: 0,
    };
    requests.push(record);
    const fail = (err: StatusError): void => {
      record.status = err.code;
      send(res, err.code, statusBody(err));
    };
    try {
      if (req.headers.authorization !== `Bearer ${token}`) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      const fault = faults.find((f) => f.times > 0 && f.match(record));
      if (fault) {
        fault.times -= 1;
        throw new StatusError(fault.status, fault.status === 409 ? 'Conflict' : fault.status >= 500 ? 'InternalError' : 'BadRequest', `injected fault (${fault.status})`);
      }
      if (!r) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${req.method} ${u.pathname})`);
      const { def, namespace, name } = r;
      const ns = namespace ?? '';
      const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readBody(req);
      let status = 200;
      let out: unknown;
      switch (record.verb) {
        case 'watch':
          record.status = 200;
          startWatch(def, namespace, query, res);
          return;
        case 'list': {
          const items = listObjects(def, namespace, parseLabelSelector(query['labelSelector']), parseFieldSelector(query['fieldSelector']));
          out = { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(rv) }, items };
          break;
        }
        case 'get':
          out = clone(existing(def, ns, name as string));
          break;
        case 'create':
          if (namespace === null) throw new StatusError(405, 'MethodNotAllowed', 'create needs a namespace');
          if (!isPlainObject(body)) throw new StatusError(400, 'BadRequest', 'body must be an object');
          out = create(def, ns, body as KubeObject);
          status = 201;
          break;
        case 'update':
          if (!isPlainObject(body)) throw new StatusError(400, 'BadRequest', 'body must be an object');
          out = replace(def, ns, name as string, body as KubeObject);
          break;
        case 'patch':
          out = patchObject(def, ns, name as string, contentType ?? '', body);
          break;
        case 'delete':
          out = remove(def, ns, name as string);
          break;
        default:
          throw new StatusError(405, 'MethodNotAllowed', `${req.method} is not supported by the fake kube-api`);
      }
      record.status = status;
      send(res, status, out);
    } catch (err) {
      if (err instanceof StatusError) fail(err);
      else fail(new StatusError(500, 'InternalError', (err as Error).message));
    }
  }

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const kcOptions = {
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: defaultNamespace }],
    currentContext: 'fake',
  };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions(kcOptions);
  const tempDirs: string[] = [];

  const api: KubeApiServer = {
    url,
    token,
    kubeConfig,
    writeKubeConfig(dir?: string) {
      const d = dir ?? mkdtempSync(join(tmpdir(), 'dramble-kubeconfig-'));
      if (!dir) tempDirs.push(d);
      const file = join(d, 'kubeconfig.json');
      // JSON is YAML: KubeConfig.loadFromFile reads it.
      const doc = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'fake', user: { token } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: defaultNamespace } }],
        'current-context': 'fake',
      };
      writeFileSync(file, JSON.stringify(doc, null, 2));
      return file;
    },
    requests,
    clearRequests() {
      requests.length = 0;
    },
    get resourceVersion() {
      return rv;
    },
    put(obj) {
      const def = defByKind(obj.kind);
      const ns = obj.metadata.namespace ?? defaultNamespace;
      const cur = store.get(key(def, ns, obj.metadata.name));
      const o: KubeObject = clone(obj);
      o.metadata.namespace = ns;
      if (cur) {
        o.metadata.uid = cur.metadata.uid;
        o.metadata.creationTimestamp = cur.metadata.creationTimestamp;
        validate(def, o);
        return commit(def, 'MODIFIED', o, cur);
      }
      o.metadata.uid ??= `uid-${++uidSeq}`;
      o.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      validate(def, o);
      return commit(def, 'ADDED', o, undefined);
    },
    get(kind, namespace, name) {
      const o = store.get(key(defByKind(kind), namespace, name));
      return o ? clone(o) : undefined;
    },
    list(kind, namespace) {
      return listObjects(defByKind(kind), namespace ?? null, [], []);
    },
    patch(kind, namespace, name, patch) {
      return patchObject(defByKind(kind), namespace, name, 'application/merge-patch+json', patch);
    },
    delete(kind, namespace, name) {
      const def = defByKind(kind);
      if (!store.has(key(def, namespace, name))) return false;
      remove(def, namespace, name);
      return true;
    },
    openWatches(kind) {
      let n = 0;
      for (const w of watches) if (!kind || w.def.kind === kind) n++;
      return n;
    },
    closeWatches({ abrupt = false } = {}) {
      for (const w of [...watches]) {
        watches.delete(w);
        if (w.timer) clearTimeout(w.timer);
        if (abrupt) w.res.destroy();
        else w.res.end();
      }
    },
    compact() {
      history.length = 0;
      minRv = rv;
    },
    addFault(fault) {
      faults.push({ match: fault.match ?? (() => true), status: fault.status ?? 500, times: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    async close() {
      for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
      api.closeWatches({ abrupt: true });
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return api;
}
