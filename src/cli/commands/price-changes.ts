import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { priceChangeFinding, detectPriceChanges } from '../../analytics/price-change.ts';
import type { PriceChangeResult } from '../../analytics/price-change.ts';
import { fromCostReport, fromLedger } from '../../analytics/price-change-input.ts';
import type { CostReportRow, DailyUsage } from '../../analytics/price-change-input.ts';
import { DAY_MS, isoDay, reportWindow } from '../../analytics/unit-period.ts';
import { formatBp } from '../../analytics/showback.ts';
import { TollgateError } from '../../domain/errors.ts';
import { parseDecimal, usdToNano } from '../../domain/money.ts';
import type { CliContext } from '../context.ts';
import { table, toJson } from '../output.ts';

const count = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v));
const reportRow = z
  .strictObject({
    day: z.string(),
    provider: z.string().min(1),
    model: z.string().min(1),
    input_tokens: count,
    output_tokens: count,
    cache_read_tokens: count.optional(),
    cache_write_tokens: count.optional(),
    cost_usd: z.union([z.number(), z.string()]).optional(),
    cost_nano: count.optional(),
  })
  .refine((r) => (r.cost_usd === undefined) !== (r.cost_nano === undefined), 'give exactly one of cost_usd or cost_nano');

/** A normalised cost report, one JSON object a line (or one JSON array). */
export function readCostReport(file: string): CostReportRow[] {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TollgateError('invalid_request', `cannot read cost report ${path}: ${(err as Error).message}`, { cause: err });
  }
  const trimmed = text.trim();
  const lines: { line: number; raw: string }[] = trimmed.startsWith('[')
    ? [{ line: 1, raw: trimmed }]
    : text.split('\n').flatMap((raw, i) => (raw.trim() === '' ? [] : [{ line: i + 1, raw }]));
  const rows: CostReportRow[] = [];
  for (const { line, raw } of lines) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new TollgateError('invalid_request', `${path} line ${line}: not JSON (one object a line, e.g. {"day":"2026-11-01","provider":"anthropic","model":"claude-sonnet-4-5","input_tokens":1000,"output_tokens":200,"cost_usd":"0.0060"})`);
    }
    for (const [i, item] of (Array.isArray(value) ? value : [value]).entries()) {
      const where = Array.isArray(value) ? `item ${i + 1}` : `line ${line}`;
      const r = reportRow.safeParse(item);
      if (!r.success) throw new TollgateError('invalid_request', `${path} ${where}: ${r.error.issues.map((x) => `${x.path.join('.') || 'row'}: ${x.message}`).join('; ')}`);
      let cost: bigint;
      try {
        cost = r.data.cost_nano ?? usdToNano(r.data.cost_usd ?? 0);
      } catch {
        throw new TollgateError('invalid_request', `${path} ${where}: cost_usd ${JSON.stringify(r.data.cost_usd)} is not an amount of USD`);
      }
      const { cost_usd: _usd, cost_nano: _nano, ...rest } = r.data;
      rows.push({ ...rest, cost_nano: cost });
    }
  }
  return rows;
}

/** `tollgate price-changes`: models whose effective price per token moved while the catalog's did not. */
export function registerPriceChanges(program: Command, ctx: CliContext): void {
  program
    .command('price-changes')
    .description('detect models whose effective price per token moved while the catalog\'s list price did not (expired discounts, unannounced price changes, a stale catalog)')
    .option('--from <date>', 'window start, UTC (default: 30 days ago)')
    .option('--to <date>', 'window end, UTC, exclusive (default: tomorrow)')
    .option('--report <file>', 'read a provider cost report (normalised JSONL: day, provider, model, input_tokens, output_tokens, cost_usd) instead of the ledger')
    .option('--tolerance <pct>', 'band around the current level, percent', '2')
    .option('--min-days <n>', 'days in a row that must confirm a new level', '2')
    .option('--json', 'print JSON')
    .action(async (o: { from?: string; to?: string; report?: string; tolerance: string; minDays: string; json?: boolean }) => {
      const toleranceBp = toleranceOf(o.tolerance);
      const minDays = Number(o.minDays);
      if (!/^\d+$/.test(o.minDays.trim()) || minDays < 1 || minDays > 30) throw new TollgateError('invalid_request', `--min-days "${o.minDays}" must be a whole number from 1 to 30`);
      const pricer = ctx.pricer();
      const given = o.from !== undefined || o.to !== undefined ? reportWindow(o, ctx.now()) : null;
      let rows: DailyUsage[];
      let window: { from: number; to: number };
      if (o.report) {
        // A report covers what it covers: without --from/--to, all of it.
        rows = fromCostReport(readCostReport(o.report), pricer).filter((r) => !given || (r.day >= given.from && r.day < given.to));
        if (rows.length === 0) throw new TollgateError('invalid_request', `${o.report} has no rows${given ? ' in this window' : ''}`);
        window = given ?? { from: Math.min(...rows.map((r) => r.day)), to: Math.max(...rows.map((r) => r.day)) + DAY_MS };
      } else {
        const today = Math.floor(ctx.now() / DAY_MS) * DAY_MS;
        window = given ?? { from: today - 30 * DAY_MS, to: today + DAY_MS };
        rows = await fromLedger(await ctx.store(), pricer, window);
      }
      const result = detectPriceChanges(rows, pricer, { toleranceBp, minDays });
      const source = o.report ? `cost report ${resolve(o.report)}` : 'the ledger';
      if (o.json) return ctx.io.stdout(toJson(priceChangesJson(result, window, source)));
      ctx.io.stdout(renderPriceChanges(result, window, source, toleranceBp));
    });
}

/** `--tolerance 2` (percent) → basis points. */
function toleranceOf(text: string): number {
  let bp: bigint | null = null;
  try {
    bp = parseDecimal(text.trim().replace(/%$/, ''), 2);
  } catch {
    // reported below
  }
  if (bp === null || bp <= 0n || bp > 10_000n) throw new TollgateError('invalid_request', `--tolerance "${text}" must be a percentage above 0 and at most 100, e.g. 2`);
  return Number(bp);
}

function priceChangesJson(r: PriceChangeResult, window: { from: number; to: number }, source: string) {
  return {
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    source,
    findings: r.changes.map((c) => {
      const f = priceChangeFinding(c);
      return { key: f.key, title: f.title, summary: f.summary, evidence: f.evidence };
    }),
    trends: r.trends.map((t) => ({
      provider: t.provider,
      model: t.model,
      days: t.days.map((d) => ({ day: isoDay(d.day), tokens: d.tokens, cost_nano: d.costNano, catalog_nano: d.catalogNano, paid_vs_catalog_pct: d.indexBp === null ? null : d.indexBp / 100 })),
    })),
  };
}

export function renderPriceChanges(r: PriceChangeResult, window: { from: number; to: number }, source: string, toleranceBp: number): string {
  const out = [`Price changes in ${source}, ${isoDay(window.from)} → ${isoDay(window.to)} (paid vs the catalog's list price for the same tokens; band ±${toleranceBp / 100}%)`, ''];
  if (r.trends.length === 0) return out.join('\n') + 'Nothing to check: no priced usage in this window.\n';
  if (r.changes.length === 0) out.push('No price changes: every model paid a steady share of its catalog price.', '');
  for (const c of r.changes) {
    const f = priceChangeFinding(c);
    out.push(`⚠ ${f.title}`, `  ${f.summary}`, '');
  }
  const rows = r.trends.map((t) => {
    const idx = t.days.flatMap((d) => (d.indexBp === null ? [] : [d.indexBp]));
    const tokens = t.days.reduce((s, d) => s + d.tokens, 0n);
    return [`${t.provider}/${t.model}`, t.days.length, tokens.toLocaleString('en'), idx.length ? formatBp(Math.min(...idx)) : '—', idx.length ? formatBp(Math.max(...idx)) : '—', r.changes.filter((c) => c.provider === t.provider && c.model === t.model).length];
  });
  out.push('Checked (paid as a share of the catalog price, lowest and highest day):', table(['model', 'days', 'tokens', 'lowest', 'highest', 'changes'], rows, ['left', 'right', 'right', 'right', 'right', 'right']).trimEnd());
  return out.join('\n') + '\n';
}
