/**
 * The `routing:` section of tollgate.yaml: virtual models (`auto`) that the cheap-first router
 * sends to a budget tier, a frontier tier or tiers between, by explainable request features, with
 * escalation to the next tier when a cheaper one fails.
 */
import { z } from 'zod';

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a tier name is a lower-case slug (a-z, 0-9, "-", "_"), e.g. budget');

/** `true` means the top (frontier) tier; a string names a tier. */
const tierRef = z.union([z.literal(true), slug]);

const threshold = z.strictObject({
  /** The rule fires when the feature is strictly above this. */
  above: z.number().int().min(0),
  /** Tier it sends the call to; default the top tier. */
  tier: slug.optional(),
});

const rules = z.strictObject({
  /** Characters of prompt text (system, instructions, messages, tool results). */
  prompt_chars: threshold.optional(),
  /** Conversation depth: messages (or input items) in the request. */
  messages: threshold.optional(),
  /** The request offers tools. */
  tools: tierRef.optional(),
  /** Code in the latest 16k characters of the prompt (a code fence, a definition, an import, SQL…). */
  code: tierRef.optional(),
  /** Maths in the latest 16k characters (LaTeX, maths symbols, "prove", "integral"…). */
  math: tierRef.optional(),
});

/** A JS regular expression, as `pattern` or `/pattern/flags`. */
const regex = z.string().min(1).superRefine((v, ctx) => {
  try {
    compileRegex(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
  }
});

const check = z.strictObject({
  /** Escalate when the answer stopped for one of these reasons, as the API spells it (`length`, `max_tokens`, `content_filter`, `max_output_tokens`…). */
  finish_reasons: z.array(z.string().min(1)).optional(),
  /** Escalate when the answer's text matches. */
  regex: regex.optional(),
  /** Escalate when the answer has neither text nor a tool call. */
  empty: z.boolean().optional(),
});

const escalateOn = z.strictObject({
  /** A connection failure, 408, 429 or 5xx from a lower tier, or its upstream's own timeout (default true). */
  upstream_error: z.boolean().optional(),
  /** A lower tier that has not answered in this many ms (headers of a stream, the whole body otherwise) is abandoned. */
  timeout_ms: z.number().int().positive().optional(),
  /** The lower tier refused (OpenAI `refusal`, Anthropic `stop_reason: refusal`) (default true). */
  refusal: z.boolean().optional(),
  /** A configurable check of a lower tier's answer (non-streamed calls only). */
  check: check.optional(),
});

const policy = z.strictObject({
  /** Every call of this scope's subtree runs on this tier. */
  tier: slug,
});

const SCOPE_PATH = /^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*){0,3}$/;

const routedModel = z
  .strictObject({
    /** Cheapest first, frontier last. */
    tiers: z
      .array(z.strictObject({ name: slug, /** provider/model, a catalog model, or a models: alias. */ model: z.string().min(1) }))
      .min(2, 'a routed model needs at least two tiers: a budget one and a frontier one')
      .max(8),
    /** What sends a call above the cheapest tier; absent: the defaults (see DEFAULT_RULES). */
    rules: rules.optional(),
    escalate_on: escalateOn.optional(),
    /** A project past a soft budget that has degrade_to set runs on the cheapest tier, without escalation (default true). */
    degrade_on_soft_cap: z.boolean().optional(),
    /** Per scope, a fixed tier (the most specific scope wins). */
    // zod 4 reports a bad record key as a bare "Invalid key in record": the message goes on the record itself.
    policies: z
      .record(z.string().regex(SCOPE_PATH), policy, {
        error: (iss) => (iss.code === 'invalid_key' ? `a policy key is a scope path (org, org/team, org/team/project or org/team/project/agent), got ${JSON.stringify(iss.input)}` : undefined),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const names = m.tiers.map((t) => t.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'name'], message: `tier name "${n}" is used twice` });
    });
    const known = (ref: unknown, path: (string | number)[]) => {
      if (typeof ref === 'string' && !names.includes(ref)) ctx.addIssue({ code: 'custom', path, message: `no tier named "${ref}" (tiers: ${names.join(', ')})` });
    };
    for (const [rule, value] of Object.entries(m.rules ?? {})) known(typeof value === 'object' ? value.tier : value, ['rules', rule]);
    for (const [scope, p] of Object.entries(m.policies ?? {})) known(p.tier, ['policies', scope, 'tier']);
  });

/** Schema of the `routing:` config section: routed model name → its tiers and rules. */
export const routingConfigSchema = z.record(z.string().regex(/^[A-Za-z0-9][\w.:-]*$/), routedModel, {
  error: (iss) => (iss.code === 'invalid_key' ? `a routed model name is letters, digits, ".", "_", ":" or "-" (e.g. auto), got ${JSON.stringify(iss.input)}` : undefined),
});

export type RoutingConfig = z.output<typeof routingConfigSchema>;
export type RoutedModelConfig = z.output<typeof routedModel>;

/** Rules used when a routed model sets none: long prompts, deep conversations, code and maths go to the frontier. */
export const DEFAULT_RULES: NonNullable<RoutedModelConfig['rules']> = {
  prompt_chars: { above: 16_000 },
  messages: { above: 12 },
  code: true,
  math: true,
};

/** `pattern` or `/pattern/flags` → RegExp; throws SyntaxError on a bad one. */
export function compileRegex(text: string): RegExp {
  const m = /^\/(.*)\/([dgimsuvy]*)$/s.exec(text);
  return m ? new RegExp(m[1]!, m[2]!.replace(/[gy]/g, '')) : new RegExp(text);
}
