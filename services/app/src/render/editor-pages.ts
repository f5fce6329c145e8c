// The editor's pages: login, content list, the edit form with preview, API tokens.
import type { Content } from '../content/repo.js';
import { humanDate } from './dates.js';
import { html, raw, type SafeHtml } from './html.js';
import { layout, type Viewer } from './layout.js';

function errorsFor(errors: Record<string, string[]>, field: string): SafeHtml {
  const list = errors[field];
  return list?.length ? html`<p class="error" id="${field}-error">${list.join('; ')}</p>` : html``;
}

export function loginPage(opts: { csrf: string; email?: string; error?: string; unavailable?: boolean }): string {
  return layout({
    title: 'Log in',
    body: opts.unavailable
      ? html`<h1>Log in</h1><p class="error" role="alert">Logging in is unavailable right now (the session store cannot be reached). Reading the site still works; please try again in a minute.</p>`
      : html`<h1>Log in</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/login" class="card">
<input type="hidden" name="_csrf" value="${opts.csrf}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${opts.email ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Log in</button></div>
</form>`,
  });
}

export function editorListPage(items: Content[], viewer: Viewer, message?: string): string {
  return layout({
    title: 'Editor',
    viewer,
    body: html`<h1>Editor</h1>
${message ? html`<p class="ok" role="status">${message}</p>` : ''}
<div class="actions"><a href="/editor/new?kind=post">New post</a> <a href="/editor/new?kind=page">New page</a> <a href="/editor/tokens">API tokens</a></div>
<form method="post" action="/logout/everywhere"><input type="hidden" name="_csrf" value="${viewer.csrf}"><button class="secondary" type="submit">Log out everywhere</button></form>
<table>
<thead><tr><th scope="col">Title</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Updated</th></tr></thead>
<tbody>
${items.map(
  (c) => html`<tr><td><a href="/editor/${c.id}/edit">${c.title}</a></td><td>${c.kind}</td><td>${c.status}</td><td>${humanDate(c.updatedAt)}</td></tr>`,
)}
</tbody>
</table>`,
  });
}

export interface EditorForm {
  id?: number;
  kind: 'post' | 'page';
  title: string;
  slug: string;
  summary: string;
  body: string;
  tags: string;
  status: 'draft' | 'published';
  version?: number;
}

/** `alert`: why a save did not go through (or may not have), shown above the form, which keeps the text. */
export function editorFormPage(opts: { form: EditorForm; viewer: Viewer; errors?: Record<string, string[]>; previewHtml?: string; message?: string; alert?: string }): string {
  const { form, viewer } = opts;
  const errors = opts.errors ?? {};
  const action = form.id ? `/editor/${form.id}/edit` : '/editor/new';
  const heading = form.id ? `Edit ${form.kind}` : `New ${form.kind}`;
  const generic = errors['_'] ?? [];
  return layout({
    title: heading,
    viewer,
    body: html`<h1>${heading}</h1>
${opts.message ? html`<p class="ok" role="status">${opts.message}</p>` : ''}
${opts.alert ? html`<p class="error" role="alert" id="save-alert">${opts.alert} Your text is kept below.</p>` : ''}
${Object.keys(errors).length ? html`<p class="error" role="alert">Nothing was saved: please fix the fields marked below.${generic.length ? ` ${generic.join('; ')}` : ''}</p>` : ''}
<form method="post" action="${action}" class="card">
<input type="hidden" name="_csrf" value="${viewer.csrf}">
<input type="hidden" name="kind" value="${form.kind}">
${form.version ? html`<input type="hidden" name="version" value="${form.version}">` : ''}
<label for="title">Title</label>
<input id="title" name="title" type="text" required value="${form.title}">${errorsFor(errors, 'title')}
<label for="slug">Slug (address: a-z, 0-9 and dashes)</label>
<input id="slug" name="slug" type="text" required pattern="[a-z0-9]+(-[a-z0-9]+)*" value="${form.slug}">${errorsFor(errors, 'slug')}
<label for="summary">Summary</label>
<input id="summary" name="summary" type="text" value="${form.summary}">${errorsFor(errors, 'summary')}
<label for="tags">Tags (comma-separated)</label>
<input id="tags" name="tags" type="text" value="${form.tags}">${errorsFor(errors, 'tags')}
<label for="body">Body (Markdown)</label>
<textarea id="body" name="body">${form.body}</textarea>${errorsFor(errors, 'body')}
<p class="meta">Status: ${form.status}</p>
<div class="actions">
<button type="submit" name="action" value="save">Save</button>
<button type="submit" name="action" value="preview" class="secondary">Preview</button>
${form.status === 'published' ? html`<button type="submit" name="action" value="unpublish" class="secondary">Unpublish</button>` : html`<button type="submit" name="action" value="publish">Publish</button>`}
</div>
</form>
${
  form.id
    ? html`<form method="post" action="/editor/${form.id}/delete"><input type="hidden" name="_csrf" value="${viewer.csrf}"><input type="hidden" name="version" value="${form.version ?? ''}"><button class="secondary" type="submit">Delete</button></form>`
    : ''
}
${opts.previewHtml !== undefined ? html`<section class="card" aria-label="Preview"><h2>Preview</h2><div class="body">${raw(opts.previewHtml)}</div></section>` : ''}`,
  });
}

export function tokensPage(opts: { viewer: Viewer; tokens: Array<{ id: number; name: string; createdAt: Date }>; newToken?: string }): string {
  return layout({
    title: 'API tokens',
    viewer: opts.viewer,
    body: html`<h1>API tokens</h1>
${opts.newToken ? html`<p role="status">Your new token (shown only once): <code id="new-token">${opts.newToken}</code></p>` : ''}
<ul>${opts.tokens.map((t) => html`<li>${t.name} (created ${humanDate(t.createdAt)})</li>`)}</ul>
<form method="post" action="/editor/tokens" class="card">
<input type="hidden" name="_csrf" value="${opts.viewer.csrf}">
<label for="name">Token name</label><input id="name" name="name" type="text" required>
<div class="actions"><button type="submit">Create token</button></div>
</form>`,
  });
}
