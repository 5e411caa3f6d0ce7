/** How a repricing reads: one line per scenario change, and the report as JSON (money as decimal USD and nano strings). */
import { formatUsd, nanoToDecimalString } from '../../domain/money.ts';
import { ratioBp } from '../showback.ts';
import type { ChangeEffect, RepriceLine, RepriceReport } from './repricer.ts';
import { formatFactor } from './scenario-schema.ts';
import type { ScenarioChange } from './scenario-schema.ts';

const day = (ms: number) => new Date(ms).toISOString().replace(/T00:00:00\.000Z$/, '').replace(/\.000Z$/, 'Z');
const since = (ms: number) => (Number.isFinite(ms) ? ` from ${day(ms)}` : '');
const mtok = (tokens: bigint) => `${(Number(tokens) / 1e6).toLocaleString('en', { maximumFractionDigits: 6 })} MTok`;
const perMTok = (nano: bigint) => `${formatUsd(nano, 9).replace(/0{1,7}$/, '')}/MTok`;

/** What a change does, in one line. */
export function describeChange(c: ScenarioChange): string {
  switch (c.kind) {
    case 'multiply':
      return `multiply ${c.provider}/${c.model ?? '*'} prices ${formatFactor(c.factor)}${since(c.fromMs)}`;
    case 'prices':
      return `new prices for ${c.provider}/${c.model ?? '*'}${since(c.fromMs)}: ${Object.entries(c.prices)
        .map(([k, v]) => (k === 'requests_kcount' ? `${formatUsd(v, 4)} per 1k requests` : `${k.replace(/_mtok$/, '')} ${perMTok(v)}`))
        .join(', ')}`;
    case 'escalator':
      return `escalator on ${c.provider}/${c.model ?? '*'}: ${c.tiers.map((t) => `${formatFactor(t.factor)} beyond ${mtok(t.aboveTokens)}`).join(', ')} in a calendar month`;
    case 'commit':
      return `commit ${formatUsd(c.amountNano)}/${c.period} to ${c.provider} at ${c.discountBp / 100}% off (usage beyond it at full price; unused commitment still paid)`;
  }
}

const usd = (nano: bigint) => nanoToDecimalString(nano);

function lineJson(l: RepriceLine) {
  return {
    name: l.name,
    key: l.key,
    calls: l.calls,
    changed_calls: l.changedCalls,
    base_usd: usd(l.baseNano),
    base_nano: l.baseNano.toString(),
    scenario_usd: usd(l.scenarioNano),
    scenario_nano: l.scenarioNano.toString(),
    delta_usd: usd(l.deltaNano),
    delta_nano: l.deltaNano.toString(),
    delta_pct: pctOf(l.deltaNano, l.baseNano),
  };
}

function pctOf(delta: bigint, base: bigint): number | null {
  const bp = ratioBp(delta, base);
  return bp === null ? null : bp / 100;
}

function changeJson(e: ChangeEffect) {
  return {
    index: e.index,
    kind: e.change.kind,
    description: describeChange(e.change),
    calls: e.calls,
    delta_usd: usd(e.deltaNano),
    delta_nano: e.deltaNano.toString(),
    ...(e.change.kind === 'commit'
      ? {
          periods: e.periods.map((p) => ({
            period: p.label,
            commitment_usd: usd(p.commitmentNano),
            used_usd: usd(p.usedNano),
            unused_usd: usd(p.unusedNano),
            unused_nano: p.unusedNano.toString(),
          })),
        }
      : {}),
  };
}

export function repriceJson(r: RepriceReport) {
  return {
    scenario: r.scenario,
    from: new Date(r.window.from).toISOString(),
    to: new Date(r.window.to).toISOString(),
    scope: r.scope,
    basis: 'effective cost; base = the ledger as recorded; repriced per call',
    total: {
      calls: r.calls,
      changed_calls: r.changedCalls,
      base_usd: usd(r.baseNano),
      base_nano: r.baseNano.toString(),
      scenario_usd: usd(r.scenarioNano),
      scenario_nano: r.scenarioNano.toString(),
      delta_usd: usd(r.deltaNano),
      delta_nano: r.deltaNano.toString(),
      delta_pct: pctOf(r.deltaNano, r.baseNano),
      unused_commitment_usd: usd(r.unusedCommitmentNano),
      recorded_differs_calls: r.recordedDiffers,
    },
    changes: r.changes.map(changeJson),
    by_team: r.byTeam.map(lineJson),
    by_agent: r.byAgent.map(lineJson),
    by_model: r.byModel.map(lineJson),
  };
}
