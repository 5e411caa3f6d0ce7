/**
 * Rollout status, the first page a new organisation sees: how much of the provider's bill the
 * gateway attributes (once a provider cost report is imported), which tiers have budgets, which
 * teams are in showback or chargeback, whether anomaly detection and alerts are wired, whether
 * outcomes are recorded, and what to do next, in order.
 */
import { nanoToDecimalString } from '../domain/money.ts';
import { TIERS } from '../domain/scope.ts';
import type { Tier } from '../domain/scope.ts';
import type { BudgetAction, ScopeNode, Store } from '../ledger/contract.ts';
import { REPORT_PROVIDERS } from '../ledger/provider-usage-contract.ts';
import { percentOf } from './percent.ts';
import { reconcileRows } from './reconcile.ts';
import type { View } from './view-scope.ts';
import { underOf } from './view-scope.ts';

const DAY_MS = 86_400_000;
/** The window the attributed share and the gateway's spend are measured over: the last 30 UTC days and today. */
export const ROLLOUT_DAYS = 30;

export type RolloutStore = Pick<Store, 'directory' | 'ledger' | 'controls' | 'outcomes' | 'chargeback' | 'providerUsage'>;

export interface RolloutOptions {
  view: View;
  now: number;
  /** Anomaly detection runs in this gateway. */
  anomaliesOn: boolean;
  /** Alert sinks (webhooks, Slack) configured. */
  alertSinks: number;
}

export type TeamMode = 'showback' | 'chargeback' | 'none';

export interface RolloutStep {
  done: boolean;
  title: string;
  detail: string;
  command: string;
}

export interface Rollout {
  from: number;
  to: number;
  /** Gateway spend on the days a provider cost report covers ÷ what those reports billed, in percent; null without a report, or below an org. */
  attributedSharePct: number | null;
  providerBilledNano: bigint | null;
  /** What the gateway recorded: on the billed days when there is a report, else over the window, in the view. */
  gatewayNano: bigint;
  tiers: Record<Tier, { count: number; withBudget: number }>;
  teams: { path: string; mode: TeamMode; chargebackAdvised: boolean }[];
  anomalyDetection: boolean;
  alertSinks: number;
  outcomesRecorded: boolean;
  steps: RolloutStep[];
}

export async function rollout(store: RolloutStore, o: RolloutOptions): Promise<Rollout> {
  const to = Math.floor(o.now / DAY_MS) * DAY_MS + DAY_MS;
  const from = to - (ROLLOUT_DAYS + 1) * DAY_MS;
  const within = o.view.within ? { within: o.view.within } : {};
  const [nodes, budgets, flags, spend, counts, orgs] = await Promise.all([
    store.directory.listScopes(underOf(o.view)),
    store.controls.listBudgets(underOf(o.view)),
    store.chargeback.listTeamFlags(underOf(o.view)),
    store.ledger.spend({ from, to, groupBy: 'org', ...within }),
    store.outcomes.counts({ from, to, ...within }),
    store.directory.listScopes().then((all) => all.filter((n) => n.tier === 'org')),
  ]);
  // The provider bills the whole account, not a team: the share means something for everything, or for the only org.
  const whole = o.view.node === null || (o.view.node.tier === 'org' && orgs.length === 1);
  const attribution = whole ? await attributed(store, from, to) : null;
  const billed = attribution?.billedNano ?? null;
  const gatewayNano = attribution?.seenNano ?? spend.reduce((s, r) => s + r.effectiveCostNano, 0n);

  const actions = new Map<string, Set<BudgetAction>>();
  for (const b of budgets) {
    let set = actions.get(b.scopeId);
    if (!set) actions.set(b.scopeId, (set = new Set()));
    set.add(b.action);
  }
  const tiers = Object.fromEntries(TIERS.map((t) => [t, { count: 0, withBudget: 0 }])) as Rollout['tiers'];
  for (const n of nodes) {
    tiers[n.tier].count++;
    if (actions.has(n.id)) tiers[n.tier].withBudget++;
  }
  const flagged = new Set(flags.filter((f) => f.billsCustomers || f.complianceHardLimits).map((f) => f.teamId));
  const teams = nodes
    .filter((n) => n.tier === 'team')
    .map((n) => {
      const a = actions.get(n.id);
      const mode: TeamMode = a?.has('chargeback') ? 'chargeback' : a?.has('showback') ? 'showback' : 'none';
      return { path: n.path, mode, chargebackAdvised: mode !== 'chargeback' && flagged.has(n.id) };
    });
  const outcomesRecorded = counts.some((c) => c.outcomes > 0n);
  const facts = { nodes, actions, teams, gatewayNano, billed, whole, outcomesRecorded };
  return {
    from,
    to,
    attributedSharePct: billed === null ? null : percentOf(gatewayNano, billed),
    providerBilledNano: billed,
    gatewayNano,
    tiers,
    teams,
    anomalyDetection: o.anomaliesOn,
    alertSinks: o.alertSinks,
    outcomesRecorded,
    steps: steps(o, facts),
  };
}

/**
 * What the imported cost reports billed in the window, and what the ledger recorded on the same
 * provider days (the reconciliation's own totals); null when no cost report covers the window.
 */
async function attributed(store: RolloutStore, from: number, to: number): Promise<{ billedNano: bigint; seenNano: bigint } | null> {
  const [rows, ledger] = await Promise.all([store.providerUsage.rows({ from, to }), store.providerUsage.ledgerDays({ from, to })]);
  if (!rows.some((r) => r.source === 'cost')) return null;
  const report = reconcileRows(rows, ledger.filter((l) => (REPORT_PROVIDERS as readonly string[]).includes(l.provider)), { gateway: {}, toleranceBp: 100 });
  return { billedNano: report.totals.billedNano, seenNano: report.totals.seenOnBilledDaysNano };
}

interface Facts {
  nodes: ScopeNode[];
  actions: Map<string, Set<BudgetAction>>;
  teams: Rollout['teams'];
  gatewayNano: bigint;
  billed: bigint | null;
  whole: boolean;
  outcomesRecorded: boolean;
}

/** What to do next, in the order a rollout goes: traffic, the bill, budgets top down, detection, alerts, outcomes, chargeback. */
function steps(o: RolloutOptions, f: Facts): RolloutStep[] {
  const root = o.view.node;
  const depth = root ? TIERS.indexOf(root.tier) : -1;
  const prefix = root ? root.path : '<org>';
  const placeholder = (tier: Tier) => [prefix, ...TIERS.slice(depth + 1, TIERS.indexOf(tier) + 1).map((t) => `<${t}>`)].join('/');
  const lacking = (tier: Tier) => f.nodes.filter((n) => n.tier === tier && !f.actions.has(n.id));
  const some = (list: ScopeNode[]) => `${list.slice(0, 3).map((n) => n.path).join(', ')}${list.length > 3 ? ` and ${list.length - 3} more` : ''}`;
  const out: RolloutStep[] = [];
  out.push({
    done: f.gatewayNano > 0n,
    title: 'Send model calls through the gateway',
    detail: 'Issue one virtual key per agent and point the OpenAI or Anthropic SDK\'s base URL at the gateway; every call is then stamped with its org, team, project and agent.',
    command: `tollgate keys create --scope ${placeholder('agent')}`,
  });
  if (f.whole) {
    out.push({
      done: f.billed !== null,
      title: 'Import the provider\'s cost report',
      detail: 'Compare what the gateway recorded with what the provider billed: the share it attributes shows how much spend still bypasses it.',
      command: 'tollgate import usage --provider openai openai-costs.json && tollgate reconcile',
    });
  }
  const budgetStep = (tier: Tier, title: string, detail: string, args: string) => {
    if (depth > TIERS.indexOf(tier)) return;
    const missing = lacking(tier);
    const total = f.nodes.filter((n) => n.tier === tier).length;
    out.push({
      done: total > 0 && missing.length === 0,
      title,
      detail: missing.length > 0 && total > 0 ? `${detail} Without one: ${some(missing)}.` : detail,
      command: `tollgate budgets set --scope ${missing[0]?.path ?? placeholder(tier)} ${args}`,
    });
  };
  budgetStep('org', 'Set the org\'s plan', 'An annual plan the org\'s spend is shown against; it alerts and never blocks.', '--period year --action plan --amount <usd>');
  budgetStep('team', 'Give every team a monthly budget', 'In showback a team sees its line and gets alerts; nothing is blocked.', '--period month --action showback --amount <usd>');
  budgetStep('agent', 'Put a hard ceiling on every agent', 'A per-agent ceiling is held exactly, whatever the concurrency: a runaway loop stops at it.', '--period day --action hard --amount <usd>');
  out.push({
    done: o.anomaliesOn,
    title: 'Turn on anomaly detection',
    detail: 'Spend spikes, runaway loops and prompt bloat are caught within the hour, not on the invoice.',
    command: 'set anomalies: { enabled: true } in tollgate.yaml and restart tollgate serve',
  });
  out.push({
    done: o.alertSinks > 0,
    title: 'Send alerts where people look',
    detail: 'Anomalies reach the on-call engineer through a webhook or a Slack channel.',
    command: 'add alerts: { webhooks: [{ url, secret }] } or alerts: { slack: [{ url }] } to tollgate.yaml and restart tollgate serve',
  });
  if (depth <= TIERS.indexOf('project')) {
    out.push({
      done: f.outcomesRecorded,
      title: 'Record outcomes',
      detail: 'Resolved tickets, merged PRs: agents report them with POST /v1/outcomes, and spend becomes cost per outcome against the human baseline.',
      command: `tollgate outcomes types set --project ${placeholder('project')} --type resolved_ticket --name "Resolved ticket" --unit ticket --baseline <usd>`,
    });
  }
  const advised = f.teams.filter((t) => t.chargebackAdvised);
  if (f.teams.length > 0) {
    out.push({
      done: advised.length === 0,
      title: 'Move teams that bill customers or need hard limits to chargeback',
      detail: advised.length > 0 ? `Their spend should be debited and held to their budget: ${advised.map((t) => t.path).slice(0, 3).join(', ')}${advised.length > 3 ? ` and ${advised.length - 3} more` : ''}.` : 'No team is flagged as billing its customers or needing hard limits.',
      command: `tollgate budgets set --scope ${advised[0]?.path ?? placeholder('team')} --period month --action chargeback --amount <usd>`,
    });
  }
  return out;
}

/** The `GET /api/rollout` JSON. */
export function rolloutJson(r: Rollout) {
  return {
    from: r.from,
    to: r.to,
    attributedSharePct: r.attributedSharePct,
    providerBilledUsd: r.providerBilledNano === null ? null : nanoToDecimalString(r.providerBilledNano),
    gatewayUsd: nanoToDecimalString(r.gatewayNano),
    tiers: r.tiers,
    teams: r.teams,
    anomalyDetection: r.anomalyDetection,
    alertSinks: r.alertSinks,
    outcomesRecorded: r.outcomesRecorded,
    steps: r.steps,
  };
}
