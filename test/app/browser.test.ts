// One real browser session in headless Chromium: log in, write and publish a post, find it on the
// home page, open /cluster and watch it update live. Keeps a screenshot in test-artifacts/.
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import type { AppHandle } from '@dramble/app';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, startTestApp, type Stack } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;

describe('the site in a browser', () => {
  let stack: Stack;
  let app: AppHandle;
  let browser: Browser;

  before(async () => {
    stack = await startStack();
    app = await startTestApp(stack, 'browser', ['--instance-name', 'browser-app', '--node-name', 'pi-3']);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await stack?.destroy();
  });

  it('logs in, publishes a post, shows it on the home page, and shows the live cluster page', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    page.setDefaultTimeout(20_000);

    await page.goto(`${app.publicUrl}/login`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/editor$/);
    await page.getByRole('link', { name: 'New post' }).click();
    await page.getByLabel('Title').fill('Hello from Chromium');
    await page.getByLabel(/^Slug/).fill('hello-from-chromium');
    await page.getByLabel('Summary').fill('Written in a real browser.');
    await page.getByLabel(/^Tags/).fill('browser');
    await page.getByLabel(/^Body/).fill('This post was **written and published** by the browser test.');
    await page.getByRole('button', { name: 'Preview' }).click();
    assert.equal(await page.locator('section[aria-label="Preview"] strong').textContent(), 'written and published');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Saved and published.').waitFor();

    await page.goto(`${app.publicUrl}/`);
    await page.getByRole('link', { name: 'Hello from Chromium' }).click();
    await page.waitForURL(/\/posts\/hello-from-chromium$/);
    assert.equal(await page.locator('h1').textContent(), 'Hello from Chromium');

    await page.goto(`${app.publicUrl}/cluster`);
    assert.equal(await page.locator('#served-instance').textContent(), 'browser-app');
    await page.locator('#live-status', { hasText: 'Live: updated' }).waitFor();
    assert.match((await page.locator('#instances').textContent()) ?? '', /browser-app \(served you\)/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}app-cluster.png`, fullPage: true });
    assert.deepEqual(cspViolations, [], 'the pages work under the strict CSP');
    await page.close();
  });
});
