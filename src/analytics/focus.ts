/**
 * FOCUS 1.2 export (FinOps Open Cost and Usage Specification, https://focus.finops.org/): one row
 * per UTC day × agent × model × token type, read from the daily rollups page by page (never all in
 * memory, never from raw events). Each rollup row's exact cost is split across its token types with
 * `splitCost`, so BilledCost sums to the ledger's effective cost to the nano-USD.
 */
import { TollgateError } from '../domain/errors.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import { usage } from '../domain/usage.ts';
import type { RollupRow } from '../ledger/chargeback-contract.ts';
import type { ScopeNode, Store } from '../ledger/contract.ts';
import type { Pricer } from '../pricing/index.ts';
import type { TokenType, UnitPrices } from './cost-split.ts';
import { splitCost, TOKEN_TYPE_LABEL, unitPrices } from './cost-split.ts';

const DAY = 86_400_000;

/** Every column, in file order: FOCUS columns first, then Tollgate's own (`x_`). */
export const FOCUS_COLUMNS = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingAccountType',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'ContractedUnitPrice',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'ListUnitPrice',
  'PricingCategory',
  'PricingCurrency',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ResourceId',
  'ResourceName',
  'ResourceType',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
  'SkuMeter',
  'SubAccountId',
  'SubAccountName',
  'SubAccountType',
  'Tags',
  'x_TokenType',
  'x_Provider',
  'x_Model',
  'x_AgentId',
  'x_ProjectId',
  'x_ProjectName',
  'x_CallCount',
  'x_ErrorCount',
  'x_EstimatedCalls',
  'x_UnpricedCalls',
  'x_ReasoningTokens',
  'x_RollupTable',
] as const;
export type FocusColumn = (typeof FOCUS_COLUMNS)[number];
/** A row: plain strings (numbers as plain decimals, dates as UTC ISO 8601), null for an empty cell. */
export type FocusRow = Record<FocusColumn, string | null>;

/** The columns the issue (and FOCUS for usage rows) requires on every row; ChargeClass is null unless a row is a correction. */
export const FOCUS_MANDATORY: readonly FocusColumn[] = [
  'BilledCost',
  'EffectiveCost',
  'ListCost',
  'ContractedCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodStart',
  'BillingPeriodEnd',
  'ChargePeriodStart',
  'ChargePeriodEnd',
  'ChargeCategory',
  'ChargeDescription',
  'InvoiceIssuerName',
  'ProviderName',
  'PublisherName',
  'ServiceName',
  'ServiceCategory',
  'PricingQuantity',
  'PricingUnit',
];

/** Display names of the providers we know; others show their id. */
const PROVIDER_NAMES: Record<string, string> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  google: 'Google',
  'google-gla': 'Google',
  'google-vertex': 'Google',
  azure: 'Microsoft',
  aws: 'Amazon Web Services',
  bedrock: 'Amazon Web Services',
  mistral: 'Mistral AI',
  groq: 'Groq',
  deepseek: 'DeepSeek',
  xai: 'xAI',
  cohere: 'Cohere',
  openrouter: 'OpenRouter',
  together: 'Together AI',
  fireworks: 'Fireworks AI',
  simulator: 'Tollgate simulator',
};

export interface FocusQuery {
  /** Inclusive, midnight UTC. */
  from: number;
  /** Exclusive, midnight UTC. */
  to: number;
  /** Only this scope's subtree. */
  scope?: string;
  /** Rollup rows read per page (default 5 000). */
  pageSize?: number;
}

/**
 * Reads `--from`/`--to` as a whole UTC day: `2026-10-01`, or a date-time at midnight UTC. The
 * export covers whole UTC days because daily rollups are what it reads.
 */
export function parseFocusDay(text: string, name: string): number {
  const t = text.trim();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(t) ? Date.parse(`${t}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(t) ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`) : NaN;
  if (Number.isNaN(ms)) throw new TollgateError('invalid_request', `cannot read ${name} "${text}": use a UTC date such as 2026-10-01`);
  if (ms % DAY !== 0) throw new TollgateError('invalid_request', `${name} ${text} is not midnight UTC: the FOCUS export covers whole UTC days (it reads the daily rollups), so give a date such as 2026-10-01`);
  return ms;
}

function checkQuery(q: FocusQuery): void {
  if (q.from % DAY !== 0 || q.to % DAY !== 0) throw new TollgateError('invalid_request', 'the FOCUS export covers whole UTC days: --from and --to must be dates such as 2026-10-01');
  if (q.from >= q.to) throw new TollgateError('invalid_request', `--to (${iso(q.to)}) must be after --from (${iso(q.from)}); --to is exclusive, e.g. --from 2026-10-01 --to 2026-11-01 for October`);
}

/** The export's rows, page by page. Validates the query (and the scope) before yielding anything. */
export async function* focusRows(store: Store, pricer: Pricer, q: FocusQuery): AsyncGenerator<FocusRow[]> {
  checkQuery(q);
  let within: { tier: ScopeNode['tier']; id: string } | undefined;
  if (q.scope !== undefined) {
    const node = await store.directory.getScope(q.scope);
    if (!node) throw new TollgateError('not_found', `scope "${q.scope}" does not exist`);
    within = { tier: node.tier, id: node.id };
  }
  const scopes = new Map((await store.directory.listScopes({ includeArchived: true })).map((s) => [s.id, s]));
  const memo = new Map<string, ModelFacts>();
  let memoDay = Number.NaN;
  let cursor: string | undefined;
  do {
    const page = await store.chargeback.rollups({ grain: 'day', from: q.from, to: q.to, ...(within ? { within } : {}), ...(cursor === undefined ? {} : { cursor }), limit: q.pageSize ?? 5000 });
    const rows: FocusRow[] = [];
    for (const r of page.rows) {
      // Rows come in day order: unit prices are dated, so the memo lives for one day.
      if (r.at !== memoDay) {
        memo.clear();
        memoDay = r.at;
      }
      const key = `${r.provider}\u0000${r.model}`;
      let facts = memo.get(key);
      if (!facts) memo.set(key, (facts = modelFacts(pricer, r)));
      rows.push(...rowsOf(r, facts, scopes));
    }
    if (rows.length > 0) yield rows;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

/** The export as CSV text chunks: the header line first, then one chunk per page of rows. */
export async function* focusCsv(store: Store, pricer: Pricer, q: FocusQuery): AsyncGenerator<string> {
  const rows = focusRows(store, pricer, q);
  // Pull the first page before the header, so a bad query fails before anything is written.
  const first = await rows.next();
  yield csvLine(FOCUS_COLUMNS);
  if (first.done) return;
  yield first.value.map((r) => csvLine(FOCUS_COLUMNS.map((c) => r[c]))).join('');
  for await (const page of rows) yield page.map((r) => csvLine(FOCUS_COLUMNS.map((c) => r[c]))).join('');
}

interface ModelFacts {
  prices: UnitPrices;
  /** Who publishes the model: the provider whose list price applies (e.g. OpenAI for a model served by Azure). */
  publisher: string;
}

function modelFacts(pricer: Pricer, r: RollupRow): ModelFacts {
  const q = pricer.price(r.provider, r.model, usage({ requests: 0 }), r.at);
  return { prices: unitPrices(pricer, r.provider, r.model, r.at), publisher: providerName(q.source === 'catalog' ? q.provider : r.provider) };
}

function rowsOf(r: RollupRow, facts: ModelFacts, scopes: Map<string, ScopeNode>): FocusRow[] {
  const org = scopes.get(r.orgId);
  const team = scopes.get(r.teamId);
  const project = scopes.get(r.projectId);
  const agent = scopes.get(r.agentId);
  const agentPath = agent?.path ?? r.agentId;
  const provider = providerName(r.provider);
  const day = new Date(r.at);
  const periodStart = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1);
  const periodEnd = Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1);
  const tags = JSON.stringify({ org: org?.slug ?? r.orgId, team: team?.slug ?? r.teamId, project: project?.slug ?? r.projectId, agent: agent?.slug ?? r.agentId, scope: agentPath });
  const out: FocusRow[] = [];
  for (const part of splitCost(r, facts.prices)) {
    const costless = part.listNano === 0n && part.effectiveNano === 0n;
    // Tokens are shown even at $0 (an unpriced model is flagged, not hidden); a free per-request meter is not.
    if (costless && (part.quantity === 0n || part.type === 'requests')) continue;
    const unit = part.type === 'requests' ? 'Requests' : 'Tokens';
    out.push({
      BilledCost: nanoToDecimalString(part.effectiveNano),
      BillingAccountId: r.orgId,
      BillingAccountName: org?.name ?? r.orgId,
      BillingAccountType: 'Organization',
      BillingCurrency: 'USD',
      BillingPeriodEnd: iso(periodEnd),
      BillingPeriodStart: iso(periodStart),
      ChargeCategory: 'Usage',
      ChargeClass: null,
      ChargeDescription: `${r.model} ${TOKEN_TYPE_LABEL[part.type]} for ${agentPath}`,
      ChargeFrequency: 'Usage-Based',
      ChargePeriodEnd: iso(r.at + DAY),
      ChargePeriodStart: iso(r.at),
      ConsumedQuantity: part.quantity.toString(),
      ConsumedUnit: unit,
      ContractedCost: nanoToDecimalString(part.effectiveNano),
      ContractedUnitPrice: nanoToDecimalString(rate(facts.prices.effective, part.type)),
      EffectiveCost: nanoToDecimalString(part.effectiveNano),
      InvoiceIssuerName: provider,
      ListCost: nanoToDecimalString(part.listNano),
      ListUnitPrice: nanoToDecimalString(rate(facts.prices.list, part.type)),
      PricingCategory: 'Standard',
      PricingCurrency: 'USD',
      PricingQuantity: perMillion(part.quantity),
      PricingUnit: `1M ${unit}`,
      ProviderName: provider,
      PublisherName: facts.publisher,
      ResourceId: r.agentId,
      ResourceName: agentPath,
      ResourceType: 'AI Agent',
      ServiceCategory: 'AI and Machine Learning',
      ServiceName: `${provider} API`,
      ServiceSubcategory: 'Generative AI',
      SkuId: `${r.provider}/${r.model}/${part.type}`,
      SkuMeter: TOKEN_TYPE_LABEL[part.type],
      SubAccountId: r.teamId,
      SubAccountName: team?.path ?? r.teamId,
      SubAccountType: 'Team',
      Tags: tags,
      x_TokenType: part.type,
      x_Provider: r.provider,
      x_Model: r.model,
      x_AgentId: r.agentId,
      x_ProjectId: r.projectId,
      x_ProjectName: project?.path ?? r.projectId,
      // Calls of the whole day × agent × model, repeated on each of its token-type rows (do not add them up across types).
      x_CallCount: r.calls.toString(),
      x_ErrorCount: r.errors.toString(),
      x_EstimatedCalls: r.estimatedCalls.toString(),
      x_UnpricedCalls: r.unpricedCalls.toString(),
      x_ReasoningTokens: part.type === 'output' ? r.reasoningTokens.toString() : null,
      x_RollupTable: 'rollup_daily',
    });
  }
  return out;
}

/** Price per million units (the PricingUnit), in nano-USD. */
function rate(r: UnitPrices['list'], type: TokenType): bigint {
  return r[type];
}

/** Units as a plain decimal count of millions: 1500 → "0.0015". */
function perMillion(units: bigint): string {
  const whole = units / 1_000_000n;
  const frac = (units % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}

function providerName(id: string): string {
  return PROVIDER_NAMES[id.toLowerCase()] ?? id;
}

/** UTC ISO 8601 to the second, as FOCUS writes date-times. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 4180: quote cells holding a comma, quote or line break (quotes doubled); null is an empty cell. */
function csvLine(cells: readonly (string | null)[]): string {
  return cells.map((v) => (v === null ? '' : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',') + '\r\n';
}
