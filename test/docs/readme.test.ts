// The README documents every setting of every service with its default, from the settings the
// services actually read; and it gives the newcomer's two commands.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderReadme, SERVICE_SETTINGS } from '../../scripts/settings-doc.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('holds the current settings table of every service (run npm run docs after changing a setting)', () => {
    assert.equal(renderReadme(readme), readme);
  });

  it('names every flag and environment variable of every service', () => {
    for (const [service, settings] of Object.entries(SERVICE_SETTINGS)) {
      for (const s of Object.values(settings)) {
        assert.ok(readme.includes(`\`--${s.flag}\``), `${service} --${s.flag} missing`);
        assert.ok(readme.includes(`\`${s.env}\``), `${service} ${s.env} missing`);
      }
    }
  });

  it('gives the two set-up commands', () => {
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /^npm test\b/m);
  });
});
