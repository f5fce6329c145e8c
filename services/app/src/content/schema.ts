// What a post or page must look like, for the JSON API and the editor forms alike.
import { z } from 'zod';

export const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const slugSchema = z.string().trim().min(1, 'is required').max(100, 'must be at most 100 characters').regex(SLUG_RE, 'may hold only a-z, 0-9 and single dashes between them');
export const tagSchema = z.string().trim().toLowerCase().min(1).max(40, 'must be at most 40 characters').regex(SLUG_RE, 'may hold only a-z, 0-9 and single dashes between them');

export const contentKinds = ['post', 'page'] as const;
export type ContentKind = (typeof contentKinds)[number];

const fields = {
  title: z.string().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
  slug: slugSchema,
  summary: z.string().trim().max(500, 'must be at most 500 characters'),
  body: z.string().max(200_000, 'must be at most 200000 characters'),
  tags: z.array(tagSchema).max(10, 'at most 10 tags').refine((t) => new Set(t).size === t.length, 'must not repeat a tag'),
  status: z.enum(['draft', 'published']),
};

export const createContentSchema = z.strictObject({
  title: fields.title,
  slug: fields.slug,
  summary: fields.summary.default(''),
  body: fields.body.default(''),
  tags: fields.tags.default([]),
  status: fields.status.default('draft'),
});

export const updateContentSchema = z.strictObject({
  title: fields.title.optional(),
  slug: fields.slug.optional(),
  summary: fields.summary.optional(),
  body: fields.body.optional(),
  tags: fields.tags.optional(),
  status: fields.status.optional(),
  version: z.number({ error: 'is required (the version you edited)' }).int().positive(),
});

export type CreateContent = z.output<typeof createContentSchema>;
export type UpdateContent = z.output<typeof updateContentSchema>;

export const listQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
  status: z.enum(['draft', 'published']).optional(),
  tag: tagSchema.optional(),
});

/** Field errors as { field: [messages] }, the shape API clients and forms show. */
export function fieldErrors(err: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of err.issues) {
    const key = issue.path.length ? String(issue.path[0]) : '_';
    const msg = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    (out[key] ??= []).push(msg);
  }
  return out;
}

/** "a, b ,c" from a form field to ['a','b','c']. */
export function splitTags(v: unknown): string[] {
  return typeof v === 'string' ? v.split(',').map((t) => t.trim()).filter((t) => t.length > 0) : [];
}
