// The images: each Dockerfile runs what `npm run build` produces, on a pinned multi-arch Node base, as
// a non-root user under tini, with production dependencies only; the build context (.dockerignore)
// holds every file the Dockerfiles copy; and the production dependencies are pure JavaScript, which
// is what lets one node_modules serve amd64, arm64 and arm/v7.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { root, SERVICE_NAMES } from './support.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  platform?: string;
  name?: string;
  body: Instruction[];
}

/** Parses a Dockerfile into its global ARGs and stages (line continuations joined, comments dropped). */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const ins = { op: op.toUpperCase(), args: rest };
    if (ins.op === 'FROM') {
      const m = /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(m, `FROM ${rest}`);
      const from = m[2]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? `\${${a ?? b}}`);
      stages.push({ from, body: [], ...(m[1] ? { platform: m[1] } : {}), ...(m[3] ? { name: m[3] } : {}) });
    } else if (stages.length === 0 && ins.op === 'ARG') {
      const [k, v = ''] = rest.split('=');
      args[k!] = v;
    } else {
      stages.at(-1)?.body.push(ins);
    }
  }
  return { args, stages };
}

/** The file tsc writes for `input` in the TypeScript project at `tsconfigPath`, as `npm run build` compiles it. */
function tscOutputFor(tsconfigPath: string, input: string): string {
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfigPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  });
  assert.ok(parsed, `${tsconfigPath} parses`);
  assert.ok(parsed.fileNames.includes(input), `${relative(root, input)} is part of ${relative(root, tsconfigPath)}`);
  const js = ts.getOutputFileNames(parsed, input, false).find((f) => f.endsWith('.js'));
  assert.ok(js, `tsc emits JavaScript for ${input}`);
  return js;
}

/** Docker's .dockerignore semantics: the last pattern matching a path or one of its parents decides. */
function dockerIgnored(patterns: string[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/\/+$/, '');
    const re = new RegExp(
      '^' +
        pattern
          .split('**/')
          .map((seg) => seg.split('**').map((s) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*'))
          .join('(?:.*/)?') +
        '$',
    );
    if (prefixes.some((p) => re.test(p))) ignored = !negate;
  }
  return ignored;
}

function filesUnder(rel: string): string[] {
  const abs = join(root, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).flatMap((n) => filesUnder(join(rel, n)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|js|mjs)$/.test(n) && !/\.(test|d)\.[mc]?ts$/.test(n) ? [p] : [];
  });
}

/** Module specifiers a file still imports after compilation (`import type` / `export type` are erased). */
function runtimeImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
    else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) out.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** npm package name of a bare specifier, or undefined for relative paths and Node builtins. */
function packageName(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfiles', () => {
  for (const svc of SERVICE_NAMES) {
    const dockerfile = join(root, 'services', svc, 'Dockerfile');

    describe(svc, () => {
      const { args, stages } = parseDockerfile(readFileSync(dockerfile, 'utf8'));
      const runtime = stages.at(-1)!;
      const cmdOf = (s: Stage, op: string) => s.body.filter((i) => i.op === op).at(-1)?.args;

      it('runs the file `npm run build` produces from src/main.ts', () => {
        const cmd = JSON.parse(cmdOf(runtime, 'CMD') ?? 'null') as string[] | null;
        assert.ok(Array.isArray(cmd), 'CMD in exec form (JSON array), so signals reach node');
        assert.equal(cmd[0], 'node');
        const main = join(root, 'services', svc, 'src/main.ts');
        assert.ok(existsSync(main), `services/${svc}/src/main.ts exists`);
        const built = tscOutputFor(join(root, 'services', svc, 'tsconfig.json'), main);
        // node's own flags (those NODE_OPTIONS refuses, e.g. --lite-mode) may come before the script
        const script = cmd.slice(1).find((a) => !a.startsWith('-'));
        assert.equal(cmd.at(-1), script, 'the script is the last word of CMD (the services take their settings from the environment)');
        assert.equal(relative(root, built), script, 'CMD names the compiled main');
        // npm run build = tsc -b tsconfig.build.json, which must build this project.
        const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
        assert.match(pkg.scripts.build!, /tsc -b tsconfig\.build\.json/);
        const refs = (JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { references: { path: string }[] }).references.map((r) => r.path);
        assert.ok(refs.includes(`services/${svc}`), `tsconfig.build.json references services/${svc}`);
        // The image builds that same project and copies its output dir to the same path.
        const build = stages.find((s) => s.body.some((i) => i.op === 'RUN' && (i.args.includes(`tsc -b services/${svc}`) || i.args.includes('npm run build'))));
        assert.ok(build, 'a stage compiles the service with tsc -b / npm run build');
        const outDir = relative(root, dirname(built));
        assert.ok(
          runtime.body.some((i) => i.op === 'COPY' && i.args.includes(`--from=${build.name}`) && i.args.includes(`/${outDir} `)),
          `the runtime stage copies ${outDir} from the build stage`,
        );
      });

      it('builds on a pinned Node 20 bookworm-slim base (multi-arch: amd64, arm64, arm/v7)', () => {
        assert.match(args.NODE_IMAGE ?? '', /^node:20\.\d+\.\d+-bookworm-slim$/);
        for (const s of stages) assert.equal(s.from, args.NODE_IMAGE, `stage ${s.name ?? '(final)'} uses the pinned base`);
        // Build stages run natively; only the runtime stage is the target platform.
        assert.equal(runtime.platform, undefined);
      });

      it('runs as a non-root user under tini, with production dependencies only', () => {
        const user = cmdOf(runtime, 'USER') ?? '';
        assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, 'USER is a numeric non-root uid (runAsNonRoot can verify it)');
        assert.deepEqual(JSON.parse(cmdOf(runtime, 'ENTRYPOINT') ?? 'null'), ['/usr/bin/tini', '--']);
        assert.ok(runtime.body.some((i) => i.op === 'RUN' && /apt-get install[^&]*\btini\b/.test(i.args)), 'tini is installed from Debian');
        const deps = stages.find((s) => s.body.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)));
        assert.ok(deps, 'a stage installs production dependencies (npm ci --omit=dev)');
        assert.ok(deps.body.some((i) => i.args.includes(`--workspace services/${svc}`)), 'only this workspace');
        const copiedModules = runtime.body.filter((i) => i.op === 'COPY' && i.args.includes('node_modules'));
        assert.ok(copiedModules.length > 0 && copiedModules.every((i) => i.args.includes(`--from=${deps.name}`)), 'node_modules come from the production stage only');
        assert.ok(!runtime.body.some((i) => i.op === 'RUN' && /\bnpm\b/.test(i.args) && !/rm -rf/.test(i.args)), 'no npm runs in the runtime stage');
      });

      it('copies only files the build context (.dockerignore) holds', () => {
        for (const s of stages) {
          for (const ins of s.body.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))) {
            const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
            for (const src of words.slice(0, -1)) {
              assert.ok(existsSync(join(root, src)), `${src} exists`);
              for (const f of filesUnder(src).filter((x) => !x.endsWith('.test.ts'))) {
                assert.ok(!dockerIgnored(dockerignore, f), `${f} (COPY ${src}) is excluded by .dockerignore`);
              }
            }
          }
        }
      });
    });
  }

  it('.dockerignore keeps tests, node_modules, build output and local data out of the context', () => {
    for (const p of ['node_modules/zod/package.json', 'services/app/dist/main.js', '.dramble/cluster.json', 'test/packaging/compose.test.ts', 'k8s/base/secret.yaml', '.git/HEAD', 'lib/src/x.test.ts']) {
      assert.ok(dockerIgnored(dockerignore, p), `${p} is not sent to the builder`);
    }
    assert.ok(!dockerIgnored(dockerignore, 'lib/src/config.ts'));
  });

  it('every package a service (or lib) imports at run time is a dependency in its package.json', () => {
    // The images install `npm ci --omit=dev --workspace services/<svc>`: that workspace's dependencies
    // and those of the workspaces it depends on (lib). A package that only resolves in the monorepo
    // because another workspace or a dev dependency brought it in is missing there.
    type Pkg = { name: string; dependencies?: Record<string, string> };
    const readPkg = (ws: string) => JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8')) as Pkg;
    const lib = readPkg('lib');
    const problems: string[] = [];
    for (const ws of ['lib', ...SERVICE_NAMES.map((s) => `services/${s}`)]) {
      const pkg = readPkg(ws);
      const deps = Object.keys(pkg.dependencies ?? {});
      const declared = new Set([pkg.name, ...deps, ...(deps.includes(lib.name) ? Object.keys(lib.dependencies ?? {}) : [])]);
      for (const file of sourceFiles(join(root, ws, 'src'))) {
        for (const spec of runtimeImports(file)) {
          const name = packageName(spec);
          if (name && !declared.has(name)) problems.push(`${relative(root, file)} imports ${spec}, not in ${ws}/package.json dependencies`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('production dependencies are pure JavaScript (no install scripts, no per-platform packages)', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean; os?: string[]; cpu?: string[]; gypfile?: boolean }>;
    };
    const native = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.dev && (p.hasInstallScript || p.gypfile || p.os || p.cpu))
      .map(([path]) => path);
    assert.deepEqual(native, [], 'these production packages build or ship native code; the images copy one node_modules to every platform');
  });
});
