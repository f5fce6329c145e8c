// Posts and pages in MySQL: parameterized statements only, a version column for conflicting edits.
import type { Database, Freshness, Sql } from '../db/database.js';
import { renderMarkdown } from './markdown.js';
import { ContentNotFoundError, SlugTakenError, VersionConflictError } from './errors.js';
import type { ContentKind, CreateContent, UpdateContent } from './schema.js';

export interface Content {
  id: number;
  kind: ContentKind;
  slug: string;
  title: string;
  summary: string;
  bodyMd: string;
  bodyHtml: string;
  status: 'draft' | 'published';
  authorId: number | null;
  authorName: string | null;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
  publishedAt: Date | null;
  version: number;
}

/** What an edit changed, for cache invalidation: the row before and after. */
export interface ContentChange {
  before: Content | null;
  after: Content | null;
}

/**
 * Runs last inside the write's transaction, with what it changed: the content API stores its
 * Idempotency-Key response here, so the key commits with the write or not at all.
 */
export type BeforeCommit = (sql: Sql, change: ContentChange) => Promise<void>;

export interface ListFilter {
  kind?: ContentKind | undefined;
  status?: 'draft' | 'published' | undefined;
  tag?: string | undefined;
  page: number;
  perPage: number;
}

interface Row {
  id: number;
  kind: ContentKind;
  slug: string;
  title: string;
  summary: string;
  body_md: string;
  body_html: string;
  status: 'draft' | 'published';
  author_id: number | null;
  author_name: string | null;
  created_at: Date;
  updated_at: Date;
  published_at: Date | null;
  version: number;
}

const SELECT = `SELECT c.id, c.kind, c.slug, c.title, c.summary, c.body_md, c.body_html, c.status, c.author_id,
  u.name AS author_name, c.created_at, c.updated_at, c.published_at, c.version
  FROM content c LEFT JOIN users u ON u.id = c.author_id`;

async function withTags(sql: Sql, rows: Row[]): Promise<Content[]> {
  const tags = new Map<number, string[]>();
  if (rows.length > 0) {
    const t = await sql.rows<{ content_id: number; tag: string }>('SELECT content_id, tag FROM content_tags WHERE content_id IN (?) ORDER BY tag', [rows.map((r) => r.id)]);
    for (const { content_id, tag } of t) tags.set(content_id, [...(tags.get(content_id) ?? []), tag]);
  }
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    slug: r.slug,
    title: r.title,
    summary: r.summary,
    bodyMd: r.body_md,
    bodyHtml: r.body_html,
    status: r.status,
    authorId: r.author_id,
    authorName: r.author_name,
    tags: tags.get(r.id) ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    publishedAt: r.published_at,
    version: r.version,
  }));
}

function where(filter: Omit<ListFilter, 'page' | 'perPage'>): { clause: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filter.kind) {
    parts.push('c.kind = ?');
    params.push(filter.kind);
  }
  if (filter.status) {
    parts.push('c.status = ?');
    params.push(filter.status);
  }
  if (filter.tag) {
    parts.push('EXISTS (SELECT 1 FROM content_tags t WHERE t.content_id = c.id AND t.tag = ?)');
    params.push(filter.tag);
  }
  return { clause: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

function isDuplicate(err: unknown): boolean {
  return (err as { errno?: number } | null)?.errno === 1062;
}

export class ContentRepo {
  constructor(private readonly db: Database) {}

  /** One page of content, newest first (published date, then creation), with the total count. */
  list(filter: ListFilter, fresh?: Freshness): Promise<{ items: Content[]; total: number }> {
    return this.db.read(async (sql) => {
      const { clause, params } = where(filter);
      const [count] = await sql.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM content c ${clause}`, params);
      const rows = await sql.rows<Row>(
        `${SELECT} ${clause} ORDER BY COALESCE(c.published_at, c.created_at) DESC, c.id DESC LIMIT ? OFFSET ?`,
        [...params, filter.perPage, (filter.page - 1) * filter.perPage],
      );
      return { items: await withTags(sql, rows), total: Number(count?.n ?? 0) };
    }, fresh);
  }

  getBySlug(slug: string, fresh?: Freshness): Promise<Content | null> {
    return this.db.read(async (sql) => {
      const rows = await sql.rows<Row>(`${SELECT} WHERE c.slug = ?`, [slug]);
      return (await withTags(sql, rows))[0] ?? null;
    }, fresh);
  }

  getById(id: number, fresh?: Freshness): Promise<Content | null> {
    return this.db.read(async (sql) => {
      const rows = await sql.rows<Row>(`${SELECT} WHERE c.id = ?`, [id]);
      return (await withTags(sql, rows))[0] ?? null;
    }, fresh);
  }

  /** Published posts and pages for the sitemap (slug, kind, last change). */
  sitemapEntries(fresh?: Freshness): Promise<Array<{ kind: ContentKind; slug: string; updatedAt: Date }>> {
    return this.db.read(async (sql) => {
      const rows = await sql.rows<{ kind: ContentKind; slug: string; updated_at: Date }>(
        "SELECT kind, slug, updated_at FROM content WHERE status = 'published' ORDER BY kind, slug",
      );
      return rows.map((r) => ({ kind: r.kind, slug: r.slug, updatedAt: r.updated_at }));
    }, fresh);
  }

  async create(kind: ContentKind, input: CreateContent, authorId: number | null, beforeCommit?: BeforeCommit): Promise<{ change: ContentChange; gtid: string | null }> {
    const bodyHtml = await renderMarkdown(input.body);
    try {
      const { result, gtid } = await this.db.write(async (sql) => {
        const res = await sql.exec(
          `INSERT INTO content (kind, slug, title, summary, body_md, body_html, status, author_id, published_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, IF(? = 'published', CURRENT_TIMESTAMP(3), NULL))`,
          [kind, input.slug, input.title, input.summary, input.body, bodyHtml, input.status, authorId, input.status],
        );
        await setTags(sql, res.insertId, input.tags);
        const change = { before: null, after: await readOne(sql, res.insertId) };
        await beforeCommit?.(sql, change);
        return change;
      });
      return { change: result, gtid };
    } catch (err) {
      if (isDuplicate(err)) throw new SlugTakenError(input.slug);
      throw err;
    }
  }

  /** Applies an edit made against `input.version`; a newer version in the database is a conflict. */
  async update(id: number, input: UpdateContent, beforeCommit?: BeforeCommit): Promise<{ change: ContentChange; gtid: string | null }> {
    const newHtml = input.body === undefined ? undefined : await renderMarkdown(input.body);
    try {
      const { result, gtid } = await this.db.write(async (sql) => {
        const before = await readOne(sql, id, true);
        if (before.version !== input.version) throw new VersionConflictError(before.slug, input.version, before.version);
        const next = {
          title: input.title ?? before.title,
          slug: input.slug ?? before.slug,
          summary: input.summary ?? before.summary,
          body: input.body ?? before.bodyMd,
          status: input.status ?? before.status,
        };
        const bodyHtml = newHtml ?? before.bodyHtml;
        await sql.exec(
          `UPDATE content SET title = ?, slug = ?, summary = ?, body_md = ?, body_html = ?, status = ?,
             published_at = CASE WHEN ? = 'published' THEN COALESCE(published_at, CURRENT_TIMESTAMP(3)) ELSE NULL END,
             updated_at = CURRENT_TIMESTAMP(3), version = version + 1
           WHERE id = ? AND version = ?`,
          [next.title, next.slug, next.summary, next.body, bodyHtml, next.status, next.status, id, input.version],
        );
        if (input.tags) await setTags(sql, id, input.tags, true);
        const change = { before, after: await readOne(sql, id) };
        await beforeCommit?.(sql, change);
        return change;
      });
      return { change: result, gtid };
    } catch (err) {
      if (isDuplicate(err)) throw new SlugTakenError(input.slug ?? '');
      throw err;
    }
  }

  /** Deletes; with `version`, only if nobody changed it since. */
  async delete(id: number, version?: number, beforeCommit?: BeforeCommit): Promise<{ change: ContentChange; gtid: string | null }> {
    const { result, gtid } = await this.db.write(async (sql) => {
      const before = await readOne(sql, id, true);
      if (version !== undefined && before.version !== version) throw new VersionConflictError(before.slug, version, before.version);
      await sql.exec('DELETE FROM content WHERE id = ?', [id]);
      const change = { before, after: null };
      await beforeCommit?.(sql, change);
      return change;
    });
    return { change: result, gtid };
  }
}

async function readOne(sql: Sql, id: number, forUpdate = false): Promise<Content> {
  const rows = await sql.rows<Row>(`${SELECT} WHERE c.id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  const c = (await withTags(sql, rows))[0];
  if (!c) throw new ContentNotFoundError(`content ${id}`);
  return c;
}

async function setTags(sql: Sql, id: number, tags: string[], replace = false): Promise<void> {
  if (replace) await sql.exec('DELETE FROM content_tags WHERE content_id = ?', [id]);
  if (tags.length > 0) await sql.exec('INSERT INTO content_tags (content_id, tag) VALUES ?', [tags.map((t) => [id, t])]);
}
