/**
 * A seeded three-month (Jan–Mar 2026) ledger of customer-tagged spend over three agents in two teams,
 * with a monthly budget on acme/eng: the history the forecast reads, shared by the CLI and HTTP tests
 * so both exercise the same shape of data.
 */
import type { Rng } from '../../src/analytics/forecast/random.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { LedgerEvent, Store } from '../../src/ledger/contract.ts';
import { makeEvent } from '../support/events.ts';

/** How the history is drawn. */
export interface ForecastHistoryOptions {
  /** The generator; the draws below consume it in a fixed order, so a seed gives one ledger. */
  rng: Rng;
  /** Tagged customers `customer-1` … `customer-N`. */
  customers: number;
  /** Calls a customer makes each month, splitting its month's spend evenly. */
  callsPerMonth: number;
  /** A customer's persistent level (USD per month), drawn once per customer. */
  level: (rng: Rng) => number;
  /** Added to the log of each month's noise (e.g. −σ²/2 to make the noise mean-one). */
  monthLogShift: number;
  /** The monthly chargeback budget on acme/eng, in whole USD. */
  budgetUsd: bigint;
}

/** The scope chain of `path`, creating what is missing. */
export async function chainFor(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

/** Records the history into `store` and sets the acme/eng budget. */
export async function seedForecastHistory(store: Store, opts: ForecastHistoryOptions): Promise<void> {
  const agents = [
    { chain: await chainFor(store, 'acme/support/helpdesk/triage-bot'), provider: 'anthropic', model: 'claude-sonnet-4-5' },
    { chain: await chainFor(store, 'acme/support/helpdesk/summariser'), provider: 'openai', model: 'gpt-4.1-mini' },
    { chain: await chainFor(store, 'acme/eng/ci/test-fixer'), provider: 'anthropic', model: 'claude-sonnet-4-5' },
  ];
  const { rng, callsPerMonth } = opts;
  const events: LedgerEvent[] = [];
  for (let c = 1; c <= opts.customers; c++) {
    const level = opts.level(rng);
    for (let month = 0; month < 3; month++) {
      const monthUsd = level * Math.exp(0.3 * rng.normal() + opts.monthLogShift);
      for (let k = 0; k < callsPerMonth; k++) {
        const a = agents[Math.floor(rng.uniform() * agents.length)]!;
        const nano = BigInt(Math.round((monthUsd / callsPerMonth) * 1e9));
        events.push(
          makeEvent(a.chain, {
            startedAt: Date.UTC(2026, month, 1 + Math.floor(rng.uniform() * 28), 12),
            provider: a.provider,
            servedModel: a.model,
            requestedModel: a.model,
            // The budget model does ten times the tokens per dollar.
            usage: usage({ inputTokens: Math.round(monthUsd * (a.provider === 'openai' ? 100_000 : 10_000)), outputTokens: Math.round(monthUsd * 1000) }),
            effectiveCostNano: nano,
            listCostNano: nano,
            tags: { customer: `customer-${c}` },
          }),
        );
      }
    }
  }
  await store.ledger.record(events);
  await store.controls.setBudget({ scopePath: 'acme/eng', amountNano: opts.budgetUsd * 1_000_000_000n, period: 'month', action: 'chargeback', thresholds: [80, 100], timeZone: 'UTC', degradeTo: null }, 'test');
}
