/**
 * The cheap-first classifier: a call runs on the cheapest tier unless a rule fires, and then on the
 * highest tier any firing rule names. Pure; the reason lists every feature that decided.
 */
import type { RequestFeatures } from './request-features.ts';

/** Rules with tier names resolved to indexes (0 = cheapest). */
export interface ClassifierRules {
  promptChars: { above: number; tier: number } | null;
  messages: { above: number; tier: number } | null;
  tools: number | null;
  code: number | null;
  math: number | null;
}

export interface Classification {
  tier: number;
  reason: string;
}

const count = (n: number) => n.toLocaleString('en');

export function classify(f: RequestFeatures, rules: ClassifierRules, tierNames: readonly string[]): Classification {
  const fired: { tier: number; why: string }[] = [];
  if (rules.promptChars && f.promptChars > rules.promptChars.above) fired.push({ tier: rules.promptChars.tier, why: `prompt ${count(f.promptChars)} chars > ${count(rules.promptChars.above)}` });
  if (rules.messages && f.messages > rules.messages.above) fired.push({ tier: rules.messages.tier, why: `${count(f.messages)} messages > ${count(rules.messages.above)}` });
  if (rules.tools !== null && f.tools > 0) fired.push({ tier: rules.tools, why: `${f.tools} tool${f.tools === 1 ? '' : 's'} offered` });
  if (rules.code !== null && f.code !== null) fired.push({ tier: rules.code, why: `code (${f.code})` });
  if (rules.math !== null && f.math !== null) fired.push({ tier: rules.math, why: `maths (${f.math})` });
  if (fired.length === 0) {
    const seen = [`prompt ${count(f.promptChars)} chars`, `${count(f.messages)} message${f.messages === 1 ? '' : 's'}`, f.tools > 0 ? `${f.tools} tools` : 'no tools', f.code ? 'code' : 'no code', f.math ? 'maths' : 'no maths'];
    return { tier: 0, reason: `no rule fired (${seen.join(', ')})` };
  }
  const tier = Math.max(...fired.map((r) => r.tier));
  return { tier, reason: fired.map((r) => `${r.why} → ${tierNames[r.tier] ?? r.tier}`).join('; ') };
}
