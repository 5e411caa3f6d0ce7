/** Negotiated discounts: dated, per provider or per model glob; the most specific one in force wins. */
import { parseDecimal } from '../domain/money.ts';
import type { PricingConfig } from './config.ts';

export interface DiscountRule {
  /** Discount in basis points (2000 = 20%). */
  readonly bp: number;
  /** 10000 − bp, the share of list price paid. */
  readonly keep: bigint;
  readonly fromMs: number;
  /** Exclusive; Infinity when open-ended. */
  readonly untilMs: number;
}

interface CompiledRule extends DiscountRule {
  readonly provider: string;
  readonly model: RegExp | null;
  /** Exact model 2, glob 1, whole provider 0; then literal length, then config order. */
  readonly rank: readonly [number, number, number];
}

/** Discount rules, matched once per (provider, model) by the pricer. */
export interface Discounts {
  /** Rules that may apply to `provider` and any of `names` (the asked model, its catalog id), most specific first. */
  candidates(provider: string, names: readonly string[]): readonly DiscountRule[];
}

export function compileDiscounts(entries: PricingConfig['discounts']): Discounts {
  const rules: CompiledRule[] = entries.map((d, order) => {
    const bp = Number(parseDecimal(d.percent, 2));
    const glob = d.model?.toLowerCase() ?? null;
    const wild = glob !== null && /[*?]/.test(glob);
    return {
      bp,
      keep: BigInt(10_000 - bp),
      fromMs: d.from.getTime(),
      untilMs: d.until?.getTime() ?? Infinity,
      provider: d.provider.toLowerCase(),
      model: glob === null ? null : globToRegExp(glob),
      rank: [glob === null ? 0 : wild ? 1 : 2, glob?.replace(/[*?]/g, '').length ?? 0, -order],
    };
  });
  rules.sort((a, b) => compareRank(b.rank, a.rank));
  return {
    candidates(provider, names) {
      const p = provider.trim().toLowerCase();
      const lower = names.map((n) => n.trim().toLowerCase());
      return rules.filter((r) => r.provider === p && (r.model === null || lower.some((n) => r.model?.test(n))));
    },
  };
}

/** The first rule (most specific) whose window [from, until) contains `atMs`; they never stack. */
export function discountAt(rules: readonly DiscountRule[], atMs: number): DiscountRule | null {
  for (const r of rules) if (atMs >= r.fromMs && atMs < r.untilMs) return r;
  return null;
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `gpt-4o*` → /^gpt-4o.*$/ ; only `*` and `?` are special. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}
