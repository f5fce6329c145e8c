// scripts/images.sh (`npm run images -- <tag>`): builds and pushes the three images for amd64, arm64
// and arm/v7 with docker buildx. No Docker engine runs here, so a stand-in `docker` on PATH records
// the commands the script runs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root, SERVICE_NAMES } from './support.js';

const execFileP = promisify(execFile);

describe('scripts/images.sh', () => {
  let dir: string;
  let log: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dramble-images-'));
    log = join(dir, 'docker.log');
    // One line per docker invocation: its arguments joined by "|".
    writeFileSync(join(dir, 'docker'), `#!/bin/bash\nIFS='|'; echo "$*" >> ${JSON.stringify(log)}\nexit 0\n`);
    chmodSync(join(dir, 'docker'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], env: Record<string, string> = {}) =>
    execFileP('bash', [join(root, 'scripts/images.sh'), ...args], { cwd: root, env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ...env }, timeout: 30_000 });
  const builds = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('|'))
      .filter((a) => a[0] === 'buildx' && a[1] === 'build');
  const flag = (argv: string[], name: string) => argv[argv.indexOf(name) + 1];

  it('builds every service for amd64, arm64 and arm/v7 from its Dockerfile, with the tag, and pushes', async () => {
    writeFileSync(log, '');
    await run(['0.2.0']);
    const b = builds();
    assert.equal(b.length, SERVICE_NAMES.length);
    for (const svc of SERVICE_NAMES) {
      const argv = b.find((a) => flag(a, '--file') === `services/${svc}/Dockerfile`);
      assert.ok(argv, `builds ${svc}`);
      assert.equal(flag(argv, '--platform'), 'linux/amd64,linux/arm64,linux/arm/v7');
      assert.equal(flag(argv, '--tag'), `ghcr.io/dramble/${svc}:0.2.0`);
      assert.ok(argv.includes('--push'));
      assert.equal(argv.at(-1), '.', 'the build context is the repository root');
    }
  });

  it('takes another registry, and builds without pushing with PUSH=0', async () => {
    writeFileSync(log, '');
    await run(['1.0.0', 'registry.lan:5000/dramble'], { PUSH: '0' });
    for (const argv of builds()) {
      assert.match(flag(argv, '--tag')!, /^registry\.lan:5000\/dramble\/[a-z-]+:1\.0\.0$/);
      assert.ok(!argv.includes('--push'));
    }
  });

  it('refuses to run without a tag or with latest', async () => {
    for (const args of [[], ['latest']]) {
      writeFileSync(log, '');
      await assert.rejects(run(args), (err: { code?: number; stderr?: string }) => err.code === 2 && /usage/.test(err.stderr ?? ''));
      assert.equal(builds().length, 0);
    }
  });
});
