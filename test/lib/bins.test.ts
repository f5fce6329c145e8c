// Each bin entry runs its workspace: from dist/ after `npm run build`, from the sources through tsx without one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const root = new URL('../..', import.meta.url).pathname;
const bins = [
  ['services/balancer/bin/dramble-balancer.js', /^dramble-balancer settings/],
  ['services/app/bin/dramble-app.js', /^dramble-app settings/],
  ['services/db-manager/bin/dramble-db-manager.js', /^dramble-db-manager settings/],
  ['cli/bin/dramble.js', /^dramble — the whole Dramble cluster/],
] as const;

describe('bin entries, built or not', () => {
  for (const [bin, header] of bins) {
    it(`${bin} --help prints its settings and exits 0`, () => {
      const r = spawnSync(process.execPath, [bin, '--help'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, header);
    });
  }

  it('a bin started with a bad setting exits 2 and names it', () => {
    const r = spawnSync(process.execPath, ['services/balancer/bin/dramble-balancer.js', '--listen', 'nowhere'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /setting "listen" \(--listen or BALANCER_LISTEN\)/);
  });
});
