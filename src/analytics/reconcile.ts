/**
 * Reconciliation of the ledger with the providers' own reports, per UTC day, provider and model:
 * what the provider billed through keys, projects or workspaces that are not the gateway's (bypass),
 * what it billed for the gateway's traffic at another price than the ledger recorded (price drift),
 * and where the token counts disagree. Each beyond the tolerance becomes a finding shaped like the
 * price-change findings, ranked by dollars.
 *
 * Dated snapshots are matched by their base name (`gpt-4o-2024-08-06` and `gpt-4o` are one model):
 * providers report snapshots, while a ledger may hold either. A provider day whose report is not
 * grouped by model is compared as one line over all models.
 */
import { formatUsd } from '../domain/money.ts';
import { usage } from '../domain/usage.ts';
import type { DayWindow, LedgerDayRow, ProviderUsage, ProviderUsageRow, ReportProvider } from '../ledger/provider-usage-contract.ts';
import { REPORT_PROVIDERS } from '../ledger/provider-usage-contract.ts';
import type { Pricer } from '../pricing/index.ts';
import { formatBp } from './showback.ts';
import { isoDay } from './unit-period.ts';

/** The gateway's own provider credentials: usage under any other key, project or workspace is a bypass. An empty list checks nothing. */
export interface GatewayIdentity {
  apiKeyIds: readonly string[];
  /** OpenAI project ids or Anthropic workspace ids. */
  projectIds: readonly string[];
}

export interface ReconcileOptions {
  gateway: Partial<Record<ReportProvider, GatewayIdentity>>;
  /** Relative difference tolerated before a finding, in basis points (100 = 1%). */
  toleranceBp: number;
  /** Prices a bypass the cost report cannot attribute (cost reports group by project/workspace, never by key); without it such a bypass has no dollar figure. */
  pricer?: Pricer;
}

export interface TokenCounts {
  input: bigint;
  cacheRead: bigint;
  cacheWrite5m: bigint;
  cacheWrite1h: bigint;
  output: bigint;
}

export type Verdict = 'matched' | 'price_drift' | 'token_mismatch' | 'cost_mismatch';

/** One day, provider and model: the provider's figures for the gateway's traffic against the ledger's. */
export interface ReconcileLine {
  day: number;
  provider: ReportProvider;
  /** The model's base name, or `*` when the provider's report for that day is not grouped by model. */
  model: string;
  /** Served model names of the ledger rows on this line. */
  ledgerModels: string[];
  /** Null when no usage report covers the day. */
  billedTokens: TokenCounts | null;
  /** Null when no cost report covers the day; less the estimated cost of bypass keys it included. */
  billedCostNano: bigint | null;
  seenTokens: TokenCounts;
  seenCostNano: bigint;
  seenCalls: bigint;
  verdict: Verdict;
  /** Dollar size of the disagreement: |billed − seen| when the cost is known, else 0. */
  impactNano: bigint;
}

/** Spend the provider billed under a key, project or workspace that is not the gateway's. */
export interface Bypass {
  day: number;
  provider: ReportProvider;
  model: string;
  via: 'api_key' | 'project' | 'workspace';
  id: string;
  /** Null when only the cost report shows it. */
  tokens: TokenCounts | null;
  requests: bigint;
  /** From the cost report (project/workspace), or estimated at catalog prices (key); null when neither is possible. */
  costNano: bigint | null;
  costEstimated: boolean;
}

export interface ReconcileFinding {
  /** Stable per kind, provider, model, day (and key): a sink drops repeats by it. */
  key: string;
  title: string;
  summary: string;
  evidence: Record<string, string | number | boolean>;
  impactNano: bigint;
}

export interface ReconcileReport {
  lines: ReconcileLine[];
  bypasses: Bypass[];
  /** Findings, largest dollar impact first. */
  findings: ReconcileFinding[];
  totals: {
    /** Everything the cost reports billed (gateway and bypass) on the days they cover. */
    billedNano: bigint;
    /** What the ledger recorded on those same provider days. */
    seenOnBilledDaysNano: bigint;
    /** What the ledger recorded on every compared provider day. */
    seenNano: bigint;
    bypassNano: bigint;
    /** seenOnBilledDays / billed in basis points; null when nothing was billed. */
    coverageBp: number | null;
    /** Provider days with ledger spend but no imported report (not compared). */
    unreportedDays: { provider: string; day: number; costNano: bigint }[];
  };
}

const ZERO: TokenCounts = { input: 0n, cacheRead: 0n, cacheWrite5m: 0n, cacheWrite1h: 0n, output: 0n };

/** `gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-20250514` → `claude-sonnet-4`. */
export function baseModel(model: string): string {
  return model.replace(/-(\d{4}-\d{2}-\d{2}|\d{8})$/, '');
}

export async function reconcile(store: ProviderUsage, window: DayWindow, opts: ReconcileOptions): Promise<ReconcileReport> {
  const [rows, ledger] = await Promise.all([store.rows(window), store.ledgerDays(window)]);
  return reconcileRows(rows, ledger.filter((l) => (REPORT_PROVIDERS as readonly string[]).includes(l.provider) && (!window.provider || l.provider === window.provider)), opts);
}

/** The comparison itself, over rows already read (exported for tests of the rules). */
export function reconcileRows(rows: readonly ProviderUsageRow[], ledger: readonly LedgerDayRow[], opts: ReconcileOptions): ReconcileReport {
  const byDay = group(rows, (r) => `${r.provider}\u0000${r.day}`);
  const ledgerByDay = group(ledger, (l) => `${l.provider}\u0000${l.day}`);
  const lines: ReconcileLine[] = [];
  const bypasses: Bypass[] = [];
  let billedNano = 0n;
  let seenOnBilledDaysNano = 0n;
  let seenNano = 0n;
  const unreportedDays: ReconcileReport['totals']['unreportedDays'] = [];
  for (const [key, dayLedger] of ledgerByDay) {
    if (!byDay.has(key)) unreportedDays.push({ provider: dayLedger[0]!.provider, day: dayLedger[0]!.day, costNano: dayLedger.reduce((s, l) => s + l.effectiveCostNano, 0n) });
  }
  for (const [key, dayRows] of [...byDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { provider, day } = dayRows[0]!;
    const gw = opts.gateway[provider] ?? { apiKeyIds: [], projectIds: [] };
    const hasUsage = dayRows.some((r) => r.source === 'usage');
    const hasCost = dayRows.some((r) => r.source === 'cost');
    const collapse = dayRows.some((r) => r.model === '');
    const unitOf = (model: string) => (collapse ? '*' : baseModel(model));
    const units = new Map<string, { line: ReconcileLine; keyBypassNano: bigint }>();
    const unit = (model: string) => {
      const m = unitOf(model);
      let u = units.get(m);
      if (!u) {
        const line: ReconcileLine = { day, provider, model: m, ledgerModels: [], billedTokens: hasUsage ? { ...ZERO } : null, billedCostNano: hasCost ? 0n : null, seenTokens: { ...ZERO }, seenCostNano: 0n, seenCalls: 0n, verdict: 'matched', impactNano: 0n };
        u = { line, keyBypassNano: 0n };
        units.set(m, u);
      }
      return u;
    };
    const dayBypasses = new Map<string, Bypass>();
    for (const r of dayRows) {
      if (r.source === 'cost') billedNano += r.costNano ?? 0n;
      const u = unit(r.model);
      const outside = bypassOf(r, gw, provider);
      if (outside === null) {
        if (r.source === 'usage') addTokens(u.line.billedTokens!, r);
        else u.line.billedCostNano! += r.costNano ?? 0n;
        continue;
      }
      const bKey = `${u.line.model}\u0000${outside.via}\u0000${outside.id}`;
      let b = dayBypasses.get(bKey);
      if (!b) {
        b = { day, provider, model: u.line.model, via: outside.via, id: outside.id, tokens: null, requests: 0n, costNano: null, costEstimated: false };
        dayBypasses.set(bKey, b);
      }
      if (r.source === 'cost') b.costNano = (b.costNano ?? 0n) + (r.costNano ?? 0n);
      else {
        b.tokens ??= { ...ZERO };
        addTokens(b.tokens, r);
        b.requests += r.requests;
        if (outside.via === 'api_key' && opts.pricer && r.model !== '') {
          // A key's cost is nowhere in a cost report (grouped by project/workspace at most): price its tokens,
          // and take that out of what the report billed the gateway's project for.
          const est = opts.pricer.price(provider, r.model, usage({ inputTokens: Number(r.inputTokens), cacheReadTokens: Number(r.cacheReadTokens), cacheWrite5mTokens: Number(r.cacheWrite5mTokens), cacheWrite1hTokens: Number(r.cacheWrite1hTokens), outputTokens: Number(r.outputTokens), requests: Number(r.requests) }), day).effectiveNano;
          b.costNano = (b.costNano ?? 0n) + est;
          b.costEstimated = true;
          u.keyBypassNano += est;
        }
      }
    }
    for (const l of ledgerByDay.get(key) ?? []) {
      const u = unit(l.model);
      if (!u.line.ledgerModels.includes(l.model)) u.line.ledgerModels.push(l.model);
      const t = u.line.seenTokens;
      t.input += l.inputTokens;
      t.cacheRead += l.cacheReadTokens;
      t.cacheWrite5m += l.cacheWrite5mTokens;
      t.cacheWrite1h += l.cacheWrite1hTokens;
      t.output += l.outputTokens;
      u.line.seenCostNano += l.effectiveCostNano;
      u.line.seenCalls += l.calls;
      seenNano += l.effectiveCostNano;
      if (hasCost) seenOnBilledDaysNano += l.effectiveCostNano;
    }
    for (const { line, keyBypassNano } of [...units.values()].sort((a, b) => (a.line.model < b.line.model ? -1 : 1))) {
      if (line.billedCostNano !== null && keyBypassNano > 0n) line.billedCostNano = line.billedCostNano > keyBypassNano ? line.billedCostNano - keyBypassNano : 0n;
      // A model only bypasses used leaves an empty gateway line: nothing to compare.
      if (line.seenCalls === 0n && (line.billedTokens === null || totalTokens(line.billedTokens) === 0n) && !line.billedCostNano) continue;
      judge(line, opts.toleranceBp);
      lines.push(line);
    }
    bypasses.push(...[...dayBypasses.values()].sort((a, b) => cmpBig(b.costNano ?? 0n, a.costNano ?? 0n)));
  }
  const bypassNano = bypasses.reduce((s, b) => s + (b.costNano ?? 0n), 0n);
  const findings = [...bypasses.map(bypassFinding), ...lines.filter((l) => l.verdict !== 'matched').map((l) => lineFinding(l, opts.toleranceBp))].sort((a, b) => cmpBig(b.impactNano, a.impactNano) || (a.key < b.key ? -1 : 1));
  return {
    lines,
    bypasses,
    findings,
    totals: { billedNano, seenOnBilledDaysNano, seenNano, bypassNano, coverageBp: billedNano > 0n ? Number((seenOnBilledDaysNano * 10_000n) / billedNano) : null, unreportedDays },
  };
}

/** Where a provider row sits outside the gateway: its project/workspace first (a whole project outside), then its key. */
function bypassOf(r: ProviderUsageRow, gw: GatewayIdentity, provider: ReportProvider): { via: Bypass['via']; id: string } | null {
  if (r.projectId !== '' && gw.projectIds.length > 0 && !gw.projectIds.includes(r.projectId)) return { via: provider === 'anthropic' ? 'workspace' : 'project', id: r.projectId };
  if (r.apiKeyId !== '' && gw.apiKeyIds.length > 0 && !gw.apiKeyIds.includes(r.apiKeyId)) return { via: 'api_key', id: r.apiKeyId };
  return null;
}

function judge(line: ReconcileLine, tolBp: number): void {
  const tokensOff = line.billedTokens !== null && (beyond(inputSide(line.billedTokens), inputSide(line.seenTokens), tolBp) || beyond(line.billedTokens.output, line.seenTokens.output, tolBp));
  const costOff = line.billedCostNano !== null && beyond(line.billedCostNano, line.seenCostNano, tolBp);
  line.verdict = tokensOff ? 'token_mismatch' : costOff ? (line.billedTokens !== null ? 'price_drift' : 'cost_mismatch') : 'matched';
  line.impactNano = line.billedCostNano === null ? 0n : abs(line.billedCostNano - line.seenCostNano);
}

/** True when a and b differ by more than `tolBp` of the larger (exact integer arithmetic). */
function beyond(a: bigint, b: bigint, tolBp: number): boolean {
  const max = a > b ? a : b;
  return abs(a - b) * 10_000n > BigInt(tolBp) * max;
}

function diffBp(billed: bigint, seen: bigint): number {
  const max = billed > seen ? billed : seen;
  return max === 0n ? 0 : Number(((billed - seen) * 10_000n) / max);
}

const inputSide = (t: TokenCounts) => t.input + t.cacheRead + t.cacheWrite5m + t.cacheWrite1h;
const totalTokens = (t: TokenCounts) => inputSide(t) + t.output;

function addTokens(t: TokenCounts, r: ProviderUsageRow): void {
  t.input += r.inputTokens;
  t.cacheRead += r.cacheReadTokens;
  t.cacheWrite5m += r.cacheWrite5mTokens;
  t.cacheWrite1h += r.cacheWrite1hTokens;
  t.output += r.outputTokens;
}

const what = (provider: string, model: string) => (model === '*' ? `${provider} (all models)` : `${provider}/${model}`);
const count = (n: bigint) => n.toLocaleString('en');

function bypassFinding(b: Bypass): ReconcileFinding {
  const cost = b.costNano === null ? 'an unknown amount' : `${b.costEstimated ? '~' : ''}${formatUsd(b.costNano)}`;
  const label = `${b.via.replace('_', ' ')} ${b.id}`;
  return {
    key: `reconcile:bypass:${b.provider}/${b.model}:${isoDay(b.day)}:${b.via}:${b.id}`,
    title: `${what(b.provider, b.model)} on ${isoDay(b.day)}: ${cost} billed via ${label}, which is not the gateway's`,
    summary:
      `${b.provider} billed ${cost}${b.tokens ? ` for ${count(totalTokens(b.tokens))} tokens in ${count(b.requests)} requests` : ''} through ${label}; the gateway never saw these calls. ` +
      (b.costEstimated ? 'The cost is estimated at catalog prices: cost reports do not break spend down by key. ' : '') +
      `Move the caller behind the gateway, or add ${b.id} to reconcile.${b.provider}.gateway_${b.via === 'api_key' ? 'api_key' : b.via}_ids if it is the gateway's own.`,
    evidence: {
      kind: 'bypass',
      provider: b.provider,
      model: b.model,
      day: isoDay(b.day),
      via: b.via,
      id: b.id,
      billed_usd: b.costNano === null ? 'unknown' : formatUsd(b.costNano, 4),
      cost_estimated: b.costEstimated,
      tokens: b.tokens ? Number(totalTokens(b.tokens)) : 0,
      requests: Number(b.requests),
    },
    impactNano: b.costNano ?? 0n,
  };
}

function lineFinding(l: ReconcileLine, tolBp: number): ReconcileFinding {
  const m = what(l.provider, l.model);
  const day = isoDay(l.day);
  const billedCost = l.billedCostNano === null ? 'not reported' : formatUsd(l.billedCostNano, 4);
  const evidence: Record<string, string | number | boolean> = {
    kind: l.verdict,
    provider: l.provider,
    model: l.model,
    day,
    ledger_models: l.ledgerModels.join(', ') || 'none',
    billed_usd: billedCost,
    seen_usd: formatUsd(l.seenCostNano, 4),
    tolerance_pct: tolBp / 100,
  };
  if (l.billedCostNano !== null) evidence['cost_diff_pct'] = diffBp(l.billedCostNano, l.seenCostNano) / 100;
  if (l.billedTokens) {
    evidence['billed_input_tokens'] = Number(inputSide(l.billedTokens));
    evidence['seen_input_tokens'] = Number(inputSide(l.seenTokens));
    evidence['billed_output_tokens'] = Number(l.billedTokens.output);
    evidence['seen_output_tokens'] = Number(l.seenTokens.output);
  }
  let title: string;
  let summary: string;
  if (l.verdict === 'token_mismatch') {
    const b = l.billedTokens!;
    title = `${m} on ${day}: billed ${count(totalTokens(b))} tokens, the ledger recorded ${count(totalTokens(l.seenTokens))}`;
    summary =
      `Input ${count(inputSide(b))} billed vs ${count(inputSide(l.seenTokens))} recorded (${formatBp(diffBp(inputSide(b), inputSide(l.seenTokens)), { sign: true })}), ` +
      `output ${count(b.output)} vs ${count(l.seenTokens.output)} (${formatBp(diffBp(b.output, l.seenTokens.output), { sign: true })}); cost ${billedCost} billed vs ${formatUsd(l.seenCostNano, 4)} recorded. ` +
      'More billed than recorded: calls that did not go through the gateway under its own key, or usage the gateway failed to capture. Less: calls the provider did not bill (errors, or a report not yet complete for the day).';
  } else {
    const d = diffBp(l.billedCostNano!, l.seenCostNano);
    title = `${m} on ${day}: billed ${billedCost}, the ledger priced it at ${formatUsd(l.seenCostNano, 4)} (${formatBp(d, { sign: true })})`;
    summary =
      l.verdict === 'price_drift'
        ? `Tokens agree within ${formatBp(tolBp)}, the price does not: the provider charged ${formatBp(d, { sign: true })} against the ledger. Look for a provider price change, an expired or new discount, or a stale price catalog/override.`
        : `No usage report covers this day, so tokens cannot be checked; the cost differs by ${formatBp(d, { sign: true })}. Import the usage report for the day to tell a price drift from missing calls.`;
  }
  return { key: `reconcile:${l.verdict}:${l.provider}/${l.model}:${day}`, title, summary, evidence, impactNano: l.impactNano };
}

function group<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

const abs = (x: bigint) => (x < 0n ? -x : x);
const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
