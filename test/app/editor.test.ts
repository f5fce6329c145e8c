// The editor: login with sessions in Redis, CSRF on every form, rate limiting and lockout, logout
// everywhere, and the HTML forms to create, preview, publish, unpublish, edit and delete.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { AppHandle } from '@dramble/app';
import { Users } from '../../services/app/src/auth/users.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, csrfFrom, login, startStack, startTestApp, type Stack } from './helpers.js';

describe('the editor', () => {
  let stack: Stack;
  let app: AppHandle;

  before(async () => {
    stack = await startStack();
    app = await startTestApp(stack, 'editor', [], { loginLimits: { perIpPerMinute: 1000, freeFailures: 3, firstDelaySeconds: 30, maxDelaySeconds: 60 } });
  });
  after(async () => {
    await app?.close();
    await stack?.destroy();
  });

  describe('login', () => {
    it('sends anonymous visitors of the editor to the login page', async () => {
      const res = await request(app.server).get('/editor').expect(303);
      assert.equal(res.headers['location'], '/login?next=%2Feditor');
    });

    it('logs in the first admin created from config, with a httpOnly SameSite=Lax session cookie', async () => {
      const agent = request.agent(app.server);
      const page = await agent.get('/login').expect(200);
      assert.equal(page.headers['cache-control'], 'private, no-store');
      const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(303);
      const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('dramble_session='))!;
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      const editor = await agent.get('/editor').expect(200);
      assert.equal(editor.headers['cache-control'], 'private, no-store');
      assert.match(editor.text, /What is the Dramble\?/);
      const home = await agent.get('/').expect(200);
      assert.equal(home.headers['cache-control'], 'private, no-store', 'pages seen with a session are never shared-cacheable');
      assert.equal(home.headers['cache-tag'], undefined);
      assert.match(home.text, /Log out/);
    });

    it('rejects a wrong password without saying which part was wrong', async () => {
      const agent = request.agent(app.server);
      const page = await agent.get('/login');
      const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: ADMIN_EMAIL, password: 'wrong password!' }).expect(401);
      assert.match(res.text, /Wrong email or password/);
      const unknown = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: 'nobody@dramble.test', password: 'whatever123' }).expect(401);
      assert.match(unknown.text, /Wrong email or password/);
      await agent.get('/editor').expect(303);
    });

    it('rejects a login form without the CSRF cookie and token pair', async () => {
      await request(app.server).post('/login').type('form').send({ _csrf: 'forged', email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(403);
      const agent = request.agent(app.server);
      await agent.get('/login');
      await agent.post('/login').type('form').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(403);
    });

    it('locks an account after repeated failures, even for the right password', async () => {
      await new Users(app.db).create({ email: 'locked@dramble.test', password: 'the right password', role: 'editor' });
      const agent = request.agent(app.server);
      const page = await agent.get('/login');
      const csrf = csrfFrom(page.text);
      for (let i = 0; i < 3; i++) await agent.post('/login').type('form').send({ _csrf: csrf, email: 'locked@dramble.test', password: `wrong ${i} attempt` }).expect(401);
      const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'locked@dramble.test', password: 'the right password' }).expect(429);
      assert.match(res.text, /locked/);
      assert.ok(Number(res.headers['retry-after']) > 0);
    });

    it('logs out, and logs out everywhere ending the sessions on other devices', async () => {
      const laptop = request.agent(app.server);
      const phone = request.agent(app.server);
      const csrfLaptop = await login(laptop);
      const csrfPhone = await login(phone);
      await phone.post('/logout').type('form').send({ _csrf: 'wrong' }).expect(403);
      await phone.post('/logout').type('form').send({ _csrf: csrfPhone }).expect(303);
      await phone.get('/editor').expect(303);
      await laptop.get('/editor').expect(200);
      const other = request.agent(app.server);
      await login(other);
      await laptop.post('/logout/everywhere').type('form').send({ _csrf: csrfLaptop }).expect(303);
      await laptop.get('/editor').expect(303);
      await other.get('/editor').expect(303);
    });
  });

  describe('writing content', () => {
    let agent: ReturnType<typeof request.agent>;
    let csrf: string;
    before(async () => {
      agent = request.agent(app.server);
      csrf = await login(agent);
    });

    it('previews, saves a draft, publishes it to the home page, unpublishes and deletes it', async () => {
      const form = { _csrf: csrf, kind: 'post', title: 'Adding a fifth Pi', slug: 'adding-a-fifth-pi', summary: 'More capacity.', tags: 'hardware, growth', body: '# Fifth\n\nIt *fits*.' };
      const preview = await agent.post('/editor/new').type('form').send({ ...form, action: 'preview' }).expect(200);
      assert.match(preview.text, /<em>fits<\/em>/);
      await request(app.server).get('/posts/adding-a-fifth-pi').expect(404);

      const saved = await agent.post('/editor/new').type('form').send({ ...form, action: 'save' }).expect(303);
      const editUrl = saved.headers['location']!.replace(/\?.*$/, '');
      assert.match(editUrl, /^\/editor\/\d+\/edit$/);
      await request(app.server).get('/posts/adding-a-fifth-pi').expect(404);
      assert.doesNotMatch((await request(app.server).get('/').expect(200)).text, /Adding a fifth Pi/, 'drafts stay off the site');

      let edit = await agent.get(editUrl).expect(200);
      const version = /name="version" value="(\d+)"/.exec(edit.text)![1]!;
      await agent.post(editUrl).type('form').send({ ...form, version, action: 'publish' }).expect(303);
      const home = await request(app.server).get('/').expect(200);
      assert.match(home.text, /Adding a fifth Pi/);
      const post = await request(app.server).get('/posts/adding-a-fifth-pi').expect(200);
      assert.match(post.text, /<h1>Fifth<\/h1>/);
      assert.match((await request(app.server).get('/tags/growth').expect(200)).text, /Adding a fifth Pi/);

      edit = await agent.get(editUrl).expect(200);
      const v2 = /name="version" value="(\d+)"/.exec(edit.text)![1]!;
      await agent.post(editUrl).type('form').send({ ...form, version: v2, action: 'unpublish' }).expect(303);
      await request(app.server).get('/posts/adding-a-fifth-pi').expect(404);
      assert.doesNotMatch((await request(app.server).get('/').expect(200)).text, /Adding a fifth Pi/);

      edit = await agent.get(editUrl).expect(200);
      const v3 = /name="version" value="(\d+)"/.exec(edit.text)![1]!;
      await agent.post(`${editUrl.replace(/\/edit$/, '')}/delete`).type('form').send({ _csrf: csrf, version: v3 }).expect(303);
      await agent.get(editUrl).expect(404);
    });

    it('creates pages too', async () => {
      await agent.post('/editor/new').type('form').send({ _csrf: csrf, kind: 'page', title: 'Contact', slug: 'contact', body: 'Mail us.', action: 'publish' }).expect(303);
      const res = await request(app.server).get('/pages/contact').expect(200);
      assert.match(res.text, /Mail us\./);
    });

    it('shows field errors and writes nothing for an invalid form', async () => {
      const before = await stack.cluster.primary.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM editor.content');
      const res = await agent.post('/editor/new').type('form').send({ _csrf: csrf, kind: 'post', title: '', slug: 'Not A Slug!', body: 'x', action: 'publish' }).expect(400);
      assert.match(res.text, /Nothing was saved/);
      assert.match(res.text, /id="title-error"/);
      assert.match(res.text, /id="slug-error"/);
      assert.match(res.text, /value="Not A Slug!"/, 'the form keeps what was typed');
      const afterCount = await stack.cluster.primary.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM editor.content');
      assert.equal(afterCount[0]!.n, before[0]!.n);
    });

    it('refuses a slug that is already used', async () => {
      const res = await agent.post('/editor/new').type('form').send({ _csrf: csrf, kind: 'post', title: 'Dup', slug: 'the-hardware', action: 'save' }).expect(409);
      assert.match(res.text, /already used/);
    });

    it('detects a conflicting edit (someone saved since the form was opened)', async () => {
      const created = await agent.post('/editor/new').type('form').send({ _csrf: csrf, kind: 'post', title: 'Shared', slug: 'shared-draft', action: 'save' }).expect(303);
      const editUrl = created.headers['location']!.replace(/\?.*$/, '');
      const page = await agent.get(editUrl);
      const version = /name="version" value="(\d+)"/.exec(page.text)![1]!;
      await agent.post(editUrl).type('form').send({ _csrf: csrf, title: 'First edit', slug: 'shared-draft', version, action: 'save' }).expect(303);
      const res = await agent.post(editUrl).type('form').send({ _csrf: csrf, title: 'Second edit', slug: 'shared-draft', version, action: 'save' }).expect(409);
      assert.match(res.text, /Someone else saved this/);
      const row = await stack.cluster.primary.query<Array<{ title: string }>>("SELECT title FROM editor.content WHERE slug = 'shared-draft'");
      assert.equal(row[0]!.title, 'First edit');
    });

    it('rejects every editor form without the session CSRF token', async () => {
      await agent.post('/editor/new').type('form').send({ kind: 'post', title: 'CSRF', slug: 'csrf-attack', action: 'publish' }).expect(403);
      await agent.post('/editor/new').type('form').send({ _csrf: 'x'.repeat(csrf.length), kind: 'post', title: 'CSRF', slug: 'csrf-attack', action: 'publish' }).expect(403);
      await agent.post('/editor/tokens').type('form').send({ name: 'stolen' }).expect(403);
      const rows = await stack.cluster.primary.query<unknown[]>("SELECT id FROM editor.content WHERE slug = 'csrf-attack'");
      assert.equal(rows.length, 0);
    });

    it('renders XSS payloads inert in titles, summaries, tags and Markdown bodies', async () => {
      const payload = {
        _csrf: csrf,
        kind: 'post',
        title: '<script>alert("t")</script>',
        slug: 'xss-test',
        summary: '"><img src=x onerror=alert(1)>',
        body: '<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n[click](javascript:alert(3))\n\n<a href="#" onclick="alert(4)">a</a>\n\n<iframe src="https://evil.example"></iframe>',
        action: 'publish',
      };
      await agent.post('/editor/new').type('form').send(payload).expect(303);
      for (const path of ['/posts/xss-test', '/']) {
        const res = await request(app.server).get(path).expect(200);
        assert.doesNotMatch(res.text, /<script>alert/, path);
        // No event handler attribute on any tag (quoted values cannot hold a quote: they are escaped).
        assert.doesNotMatch(res.text.replace(/"[^"]*"/g, '""'), /<[^>]*\son\w+\s*=/i, path);
        assert.doesNotMatch(res.text, /href="javascript:/i, path);
        assert.doesNotMatch(res.text, /<iframe/i, path);
        assert.doesNotMatch(res.text, /<img src=x/, path);
      }
      const post = await request(app.server).get('/posts/xss-test').expect(200);
      assert.match(post.text, /&lt;script&gt;alert\(&quot;t&quot;\)&lt;\/script&gt;/, 'the title is shown as text');
    });

    it('creates an API token shown once on the tokens page', async () => {
      const res = await agent.post('/editor/tokens').type('form').send({ _csrf: csrf, name: 'laptop' }).expect(201);
      assert.match(res.text, /id="new-token">dr_[\w-]{20,}</);
      const again = await agent.get('/editor/tokens').expect(200);
      assert.doesNotMatch(again.text, /dr_[\w-]{20,}/);
      assert.match(again.text, /laptop/);
    });
  });
});
