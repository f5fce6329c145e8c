// "No native addons anywhere": every image must build and run on arm64 and armv7 from the
// node_modules an x86-64 build stage installs. Scans the installed node_modules and the lock
// for what would break that: compiled addons (.node), node-gyp builds (binding.gyp, gypfile),
// install scripts, and prebuilt platform executables in production dependencies.
//
// One install script is allowed: esbuild's postinstall (`node install.js`), a dev dependency
// that tsx uses to run the tests and `npm start` from the sources. It checks the prebuilt esbuild
// executable of the platform (@esbuild/linux-x64 here), a separate program tsx spawns, not an addon
// loaded into Node, and it never reaches an image: the Dockerfiles install `--omit=dev
// --ignore-scripts` and run tsc's output. A production dependency with any install script fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../e2e/helpers.js';

const DEV_INSTALL_SCRIPTS_ALLOWED = new Set(['esbuild']);
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

interface LockEntry {
  dev?: boolean;
  hasInstallScript?: boolean;
  link?: boolean;
}

function isElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/** Everything in `nodeModules` that is or builds native code; `lock` says which packages are dev-only. */
function nativeFindings(root: string, lock: Record<string, LockEntry>): string[] {
  const findings: string[] = [];
  /** `level`: the folder holds packages (root, any node_modules) or a scope's packages. */
  const walk = (dir: string, pkg: string | undefined, level: 'packages' | 'scope' | 'inside'): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const rel = relative(root, p);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue; // workspace links (@dramble/*) and .bin entries
      if (st.isDirectory()) {
        if (name === '.cache' || name === '.bin') continue; // tools' caches (the arm64 test's node binary)
        if (name === 'node_modules') walk(p, pkg, 'packages');
        else if (level === 'packages' && name.startsWith('@')) walk(p, pkg, 'scope');
        else walk(p, level === 'inside' ? pkg : rel, 'inside');
        continue;
      }
      const dev = pkg ? lock[pkg]?.dev === true : false;
      if (name.endsWith('.node')) findings.push(`${rel}: compiled Node addon`);
      else if (name === 'binding.gyp') findings.push(`${rel}: node-gyp build file`);
      else if (name === 'package.json' && pkg && p === join(root, pkg, 'package.json')) {
        const manifest = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; gypfile?: boolean; scripts?: Record<string, string> };
        if (manifest.gypfile) findings.push(`${rel}: gypfile: true`);
        for (const s of INSTALL_SCRIPTS) {
          const script = manifest.scripts?.[s];
          if (!script) continue;
          if (dev && DEV_INSTALL_SCRIPTS_ALLOWED.has(manifest.name ?? '')) continue;
          findings.push(`${rel}: ${dev ? 'dev' : 'production'} dependency runs "${s}": ${script}`);
        }
      } else if (!dev && (st.mode & 0o111 || !name.includes('.')) && st.size > 1024 && isElf(p)) {
        findings.push(`${rel}: prebuilt ELF executable in a production dependency`);
      }
    }
  };
  walk(root, undefined, 'packages');
  return findings;
}

function readLock(): Record<string, LockEntry> {
  return (JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
}

describe('no dependency is or builds a native addon', () => {
  it('finds no .node file, binding.gyp, gypfile or disallowed install script in node_modules', () => {
    const findings = nativeFindings(join(ROOT, 'node_modules'), Object.fromEntries(Object.entries(readLock()).map(([k, v]) => [k.replace(/^node_modules\//, ''), v])));
    assert.deepEqual(findings, []);
  });

  it('the lock lists no install script but the allowed dev ones', () => {
    const scripted = Object.entries(readLock())
      .filter(([, v]) => v.hasInstallScript)
      .filter(([k, v]) => !(v.dev && DEV_INSTALL_SCRIPTS_ALLOWED.has(k.replace(/^.*node_modules\//, ''))))
      .map(([k, v]) => `${k}${v.dev ? ' (dev)' : ' (production)'}`);
    assert.deepEqual(scripted, []);
  });

  it('the scan catches an addon, a gyp build, an install script and a prebuilt binary', () => {
    const root = mkdtempSync(join(tmpdir(), 'dramble-native-scan-'));
    try {
      const pkg = (name: string, manifest: object) => {
        mkdirSync(join(root, name), { recursive: true });
        writeFileSync(join(root, name, 'package.json'), JSON.stringify({ name, ...manifest }));
      };
      pkg('addon', {});
      mkdirSync(join(root, 'addon', 'build', 'Release'), { recursive: true });
      writeFileSync(join(root, 'addon', 'build', 'Release', 'addon.node'), 'x');
      pkg('gyp', { gypfile: true });
      writeFileSync(join(root, 'gyp', 'binding.gyp'), '{}');
      pkg('scripted', { scripts: { install: 'node-gyp rebuild' } });
      pkg('@scope/prebuilt', {});
      writeFileSync(join(root, '@scope', 'prebuilt', 'tool'), Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(2048)]), { mode: 0o755 });
      pkg('esbuild', { scripts: { postinstall: 'node install.js' } });
      const findings = nativeFindings(root, { esbuild: { dev: true } });
      assert.deepEqual(findings.sort(), [
        '@scope/prebuilt/tool: prebuilt ELF executable in a production dependency',
        'addon/build/Release/addon.node: compiled Node addon',
        'gyp/binding.gyp: node-gyp build file',
        'gyp/package.json: gypfile: true',
        'scripted/package.json: production dependency runs "install": node-gyp rebuild',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
