// Config: one validated object per service; bad input stops start-up with the setting's name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, defineSettings, loadConfig, setting, settingsMarkdown } from '@dramble/lib';
import { spawnMini } from './helpers.js';

const settings = defineSettings({
  listen: { schema: setting.hostPort('127.0.0.1:8080'), env: 'T_LISTEN', flag: 'listen', doc: 'where to listen' },
  backend: { schema: setting.list(setting.url()), env: 'T_BACKEND', flag: 'backend', doc: 'backends', list: true },
  retries: { schema: setting.int(2, 0, 10), env: 'T_RETRIES', flag: 'retries', doc: 'retries' },
  cache: { schema: setting.bool(true), env: 'T_CACHE', flag: 'cache', doc: 'cache on' },
  token: { schema: setting.optionalString(), env: 'T_TOKEN', flag: 'token', doc: 'admin token', secret: true },
  name: { schema: setting.string(), env: 'T_NAME', flag: 'name', doc: 'required' },
});

describe('config loading', () => {
  it('applies defaults, then file, then environment, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ name: 'from-file', retries: 5, listen: '0.0.0.0:1' }));
    const c = loadConfig(settings, { argv: ['--config', file, '--listen', '127.0.0.1:9999'], env: { T_RETRIES: '7' } });
    assert.equal(c.name, 'from-file');
    assert.equal(c.retries, 7);
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9999 });
    assert.equal(c.cache, true);
    assert.deepEqual(c.backend, []);
    assert.equal(c.token, undefined);
  });

  it('reads repeatable flags and comma-separated environment lists', () => {
    const a = loadConfig(settings, { argv: ['--name', 'x', '--backend', 'http://a:1', '--backend=http://b:2'], env: {} });
    assert.deepEqual(a.backend, ['http://a:1', 'http://b:2']);
    const b = loadConfig(settings, { argv: ['--name', 'x'], env: { T_BACKEND: 'http://a:1, http://b:2' } });
    assert.deepEqual(b.backend, ['http://a:1', 'http://b:2']);
  });

  it('reads boolean switches: bare flag, --no-flag and words', () => {
    assert.equal(loadConfig(settings, { argv: ['--name', 'x', '--no-cache'], env: {} }).cache, false);
    assert.equal(loadConfig(settings, { argv: ['--name', 'x', '--cache'], env: { T_CACHE: 'false' } }).cache, true);
    assert.equal(loadConfig(settings, { argv: ['--name', 'x'], env: { T_CACHE: 'off' } }).cache, false);
  });

  it('names every bad setting, its flag and env var, and what it must be', () => {
    assert.throws(
      () => loadConfig(settings, { argv: ['--retries', 'many', '--listen', 'nowhere'], env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /setting "retries" \(--retries or T_RETRIES\) must be a whole number, got "many"/);
        assert.match(err.message, /setting "listen" .*must be host:port/);
        assert.match(err.message, /setting "name" .*is required/);
        return true;
      },
    );
  });

  it('rejects unknown flags and unknown file keys instead of ignoring them', () => {
    assert.throws(() => loadConfig(settings, { argv: ['--name', 'x', '--retrys', '3'], env: {} }), /unknown flag --retrys/);
    const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.json');
    writeFileSync(file, JSON.stringify({ name: 'x', colour: 'red' }));
    assert.throws(() => loadConfig(settings, { argv: ['--config', file], env: {} }), /unknown setting\(s\): colour/);
  });

  it('never shows a secret value in an error', () => {
    const strict = defineSettings({ token: { schema: z.string().min(20, 'must be at least 20 characters'), env: 'T_TOKEN', flag: 'token', doc: 't', secret: true } });
    assert.throws(
      () => loadConfig(strict, { argv: ['--token', 'hunter2'], env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.doesNotMatch(err.message, /hunter2/);
        assert.match(err.message, /setting "token".*must be at least 20 characters, got \*\*\*/);
        return true;
      },
    );
  });

  it('documents every setting with its default', () => {
    const md = settingsMarkdown(settings);
    assert.match(md, /\| `--listen` \| `T_LISTEN` \| `listen` \| 127\.0\.0\.1:8080 \|/);
    assert.match(md, /\| `--name` \| `T_NAME` \| `name` \| \(required\) \|/);
    assert.match(md, /\| `--retries` \| `T_RETRIES` \| `retries` \| 2 \|/);
  });
});

describe('a service started with a bad config', () => {
  async function runToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: unknown; stderr: string }> {
    const s = spawnMini(args, env);
    const code = await s.exited;
    return { code, stderr: s.stderrText() };
  }

  it('stops with exit code 2 and names a missing required setting', async () => {
    const { code, stderr } = await runToExit([]);
    assert.equal(code, 2);
    assert.match(stderr, /mini-service: invalid configuration/);
    assert.match(stderr, /setting "name" \(--name or MINI_NAME\) is required/);
  });

  it('stops with exit code 2 and names a wrong-typed setting', async () => {
    const { code, stderr } = await runToExit(['--name', 'x'], { MINI_WORKERS: 'lots' });
    assert.equal(code, 2);
    assert.match(stderr, /setting "workers" \(--workers or MINI_WORKERS\) must be a whole number, got "lots"/);
  });
});
