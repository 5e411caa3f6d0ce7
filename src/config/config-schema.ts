/**
 * tollgate.yaml. Every section is optional: with no file at all Tollgate runs on the embedded
 * default (SQLite file, in-process counters, built-in simulator upstream).
 */
import { z } from 'zod';
import { pricingConfigSchema } from '../pricing/index.ts';

const provider = z.strictObject({
  /** Where the upstream API lives, e.g. https://api.openai.com/v1. */
  base_url: z.url({ protocol: /^https?$/, error: 'base_url must be an http(s) URL' }),
  /** The provider credential; usually `${OPENAI_API_KEY}`. Never returned or logged. */
  api_key: z.string().optional(),
  /** Wire format the upstream speaks; defaults to the provider id's own (openai-compatible otherwise). */
  api: z.enum(['openai', 'anthropic']).optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65_535).optional(),
      host: z.string().optional(),
    })
    .optional(),
  /** A file path (SQLite) or postgres:// URL; TOLLGATE_DB and --db take precedence. */
  database: z.string().optional(),
  /** redis:// URL for counters shared across replicas; TOLLGATE_REDIS takes precedence. */
  redis: z.string().optional(),
  providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'provider ids are lower-case slugs'), provider).optional(),
  pricing: pricingConfigSchema.optional(),
});

export type TollgateConfig = z.output<typeof configSchema>;
