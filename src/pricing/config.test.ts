import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { pricingConfigSchema } from './config.ts';

/** The prettified zod error of an invalid config, or '' if it parses. */
function problems(cfg: unknown): string {
  const r = pricingConfigSchema.safeParse(cfg);
  return r.success ? '' : z.prettifyError(r.error);
}

const discount = (d: Record<string, unknown>) => ({ discounts: [{ provider: 'anthropic', percent: 20, from: '2026-01-01', ...d }] });

describe('pricingConfigSchema', () => {
  it('reads the YAML section', () => {
    const text = `
pricing:
  fallback: { input_mtok: 10, output_mtok: 30 }
  discounts:
    - { provider: anthropic, percent: 20, from: 2026-01-01 }
    - { provider: openai, model: gpt-4o*, percent: 12.5, from: 2026-01-01, until: 2027-01-01 }
  custom_models:
    - { provider: vllm, model: llama-3.1-70b-ft, from: 2026-01-01, prices: { input_mtok: 0.2, output_mtok: 0.6, cache_read_mtok: 0.05 } }
`;
    const cfg = pricingConfigSchema.parse((parse(text) as { pricing: unknown }).pricing);
    expect(cfg.discounts[1]).toEqual({
      provider: 'openai',
      model: 'gpt-4o*',
      percent: 12.5,
      from: new Date('2026-01-01T00:00:00Z'),
      until: new Date('2027-01-01T00:00:00Z'),
    });
    expect(cfg.custom_models[0]?.prices).toEqual({ input_mtok: 0.2, output_mtok: 0.6, cache_read_mtok: 0.05 });
    expect(pricingConfigSchema.parse({})).toEqual({ discounts: [], custom_models: [] });
  });

  it('rejects a negative percent or one above 100', () => {
    expect(problems(discount({ percent: -5 }))).toContain('percent must be between 0 and 100, got -5');
    expect(problems(discount({ percent: 100.5 }))).toContain('percent must be between 0 and 100, got 100.5');
    expect(problems(discount({ percent: -5 }))).toContain('at discounts[0].percent');
    expect(problems(discount({ percent: 100 }))).toBe('');
  });

  it('rejects a percent finer than a basis point', () => {
    expect(problems(discount({ percent: 12.345 }))).toContain('at most 2 decimals (whole basis points)');
  });

  it('rejects until at or before from', () => {
    expect(problems(discount({ until: '2026-01-01' }))).toContain(
      'until (2026-01-01T00:00:00.000Z) must be after from (2026-01-01T00:00:00.000Z)',
    );
    expect(problems(discount({ until: '2025-06-01' }))).toContain('at discounts[0].until');
  });

  it('rejects an unknown price key, naming the allowed ones', () => {
    const msg = problems({ custom_models: [{ provider: 'vllm', model: 'm', prices: { input_mtok: 1, output_mtok: 1, input_per_mtok: 1 } }] });
    expect(msg).toContain('unknown price key "input_per_mtok"; allowed: input_mtok, output_mtok, cache_read_mtok');
    expect(msg).toContain('at custom_models[0].prices');
  });

  it('requires explicit input and output prices (0 is fine, absent is not)', () => {
    expect(problems({ fallback: { input_mtok: 1 } })).toContain('at fallback.output_mtok');
  });

  it('rejects negative and over-precise prices', () => {
    expect(problems({ fallback: { input_mtok: -1, output_mtok: 1 } })).toContain('price -1 must not be negative');
    expect(problems({ fallback: { input_mtok: '0.0000000001', output_mtok: 1 } })).toContain('at most 9 decimal places');
  });

  it('rejects unknown fields and bad dates clearly', () => {
    expect(problems(discount({ precent: 5 }))).toContain('unknown field "precent" in discount');
    expect(problems(discount({ from: '2026-02-30' }))).toContain('not an ISO date or date-time (UTC): "2026-02-30"');
    expect(problems(discount({ from: undefined }))).toContain('at discounts[0].from');
  });

  it('rejects overlapping discounts for the same target and duplicate custom dates', () => {
    const twice = {
      discounts: [
        { provider: 'openai', percent: 10, from: '2026-01-01', until: '2026-07-01' },
        { provider: 'OpenAI', percent: 15, from: '2026-06-01' },
      ],
    };
    expect(problems(twice)).toContain('discount for openai/* overlaps discounts[0] in time');
    const custom = { provider: 'vllm', model: 'm', from: '2026-01-01', prices: { input_mtok: 1, output_mtok: 1 } };
    expect(problems({ custom_models: [custom, custom] })).toContain('custom model vllm/m has two prices from the same date');
  });
});
