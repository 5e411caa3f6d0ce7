/** The board summary as JSON and as one page of Markdown. */
import { formatUsd } from '../domain/money.ts';
import type { BoardLine, BoardSummary } from './board.ts';
import { money, ratioJson, workloadJson } from './unit-json.ts';
import { isoDay } from './unit-period.ts';
import type { Ratio } from './unit-ratio.ts';
import { ratioPercent } from './unit-ratio.ts';

type Json = Record<string, unknown>;

function lineJson(l: BoardLine): Json {
  return { path: l.path, name: l.name, ...money('spend', l.spendNano), ...money('previous', l.previousNano), change: ratioJson(l.change), share: ratioJson(l.share) };
}

export function boardJson(b: BoardSummary): Json {
  return {
    org: b.org.path,
    quarter: { label: b.quarter.label, from: new Date(b.quarter.from).toISOString(), to: new Date(b.quarter.to).toISOString(), as_of: b.asOf === null ? null : new Date(b.asOf).toISOString() },
    previous_quarter: b.previous.label,
    ...money('spend', b.spendNano),
    ...money('previous_spend', b.previousNano),
    change: ratioJson(b.change),
    plan: b.plan && {
      period: b.plan.period,
      year: b.plan.year,
      ...money('amount', b.plan.amountNano),
      ...money('spent', b.plan.spentNano),
      used: ratioJson(b.plan.used),
      ...money('forecast', b.plan.forecastNano),
      ...money('quarter_share', b.plan.quarterShareNano),
    },
    teams: b.teams.map(lineJson),
    workloads: b.unit.workloads.map((w) => {
      const { weeks: _weeks, drift: _drift, ...rest } = workloadJson(w);
      return { ...rest, ...money('previous_cost_per_outcome', b.previousCostPerOutcome.get(`${w.projectId}\u0000${w.type}`) ?? null) };
    }),
    totals: {
      ...money('roi_cost', b.unit.totals.roiCostNano),
      ...money('baseline_value', b.unit.totals.baselineValueNano),
      ...money('savings', b.unit.totals.savingsNano),
      roi: ratioJson(b.unit.totals.roi),
      ...money('unmeasured_cost', b.unit.unmeasured.reduce((s, u) => s + u.costNano, 0n)),
    },
    movers: b.movers.map((m) => ({ ...lineJson(m), team: m.team, ...money('delta', m.spendNano - m.previousNano) })),
  };
}

const usd = (n: bigint) => formatUsd(n);
const pct = (r: Ratio | null, signed = true) => (r === null ? '—' : ratioPercent(r, 0, signed));
const cell = (s: string) => s.replace(/\|/g, '\\|');

export function boardMarkdown(b: BoardSummary): string {
  const q = b.quarter.label;
  const p = b.previous.label;
  const out: string[] = [];
  out.push(`# ${b.org.name}: AI spend, ${q}`, '');
  const through = b.asOf === null ? `${isoDay(b.quarter.from)} to ${isoDay(b.quarter.to - 1)}` : `Quarter to date, ${isoDay(b.quarter.from)} to ${isoDay(b.asOf)}`;
  out.push(`*${through} (UTC). Effective cost (after negotiated discounts) from the Tollgate ledger; compared with ${p}.*`, '');

  out.push('## Spend against plan', '');
  out.push(`- **Spend this quarter: ${usd(b.spendNano)}** (${p}: ${usd(b.previousNano)}, ${pct(b.change)})`);
  if (b.plan) {
    const pl = b.plan;
    out.push(`- **${pl.period === 'year' ? `Annual plan ${pl.year}` : 'Quarterly plan'}: ${usd(pl.amountNano)}**; spent ${usd(pl.spentNano)} ${pl.period === 'year' ? `from 1 January to ${b.asOf === null ? 'the quarter\'s end' : 'date'}` : 'this quarter'} (${pct(pl.used, false)} of plan).`);
    if (pl.period === 'year') {
      out.push(`- At the last 28 days' run rate the year ends at **${usd(pl.forecastNano)}** (${pct({ num: pl.forecastNano, den: pl.amountNano }, false)} of plan).`);
      out.push(`- This quarter used ${pct({ num: b.spendNano, den: pl.quarterShareNano }, false)} of a quarter's share of the plan (${usd(pl.quarterShareNano)}).`);
    }
  } else {
    out.push(`- No annual plan is set (\`tollgate budgets set --scope ${b.org.path} --amount 250000 --period year --action plan\`).`);
  }
  out.push('');

  out.push('## Spend by team', '');
  out.push(`| Team | Spend | Share | ${p} | Change |`, '|---|--:|--:|--:|--:|');
  for (const t of b.teams) out.push(`| ${cell(t.path)} | ${usd(t.spendNano)} | ${pct(t.share, false)} | ${usd(t.previousNano)} | ${t.change === null ? 'new' : pct(t.change)} |`);
  out.push(`| **Total** | **${usd(b.spendNano)}** | 100% | ${usd(b.previousNano)} | ${b.change === null ? 'new' : pct(b.change)} |`, '');

  out.push('## Cost per outcome against the human baseline', '');
  const u = b.unit;
  if (u.workloads.length === 0) {
    out.push(`No outcome types yet: \`tollgate outcomes types set --project ${b.org.path}/<team>/<project> --type resolved_ticket --name "Resolved ticket" --unit ticket --baseline 6.00\`.`, '');
  } else {
    out.push(`| Workload | Outcomes | Cost | $/outcome | ${p} $/outcome | Human baseline | Savings | ROI |`, '|---|--:|--:|--:|--:|--:|--:|--:|');
    for (const w of u.workloads) {
      const before = b.previousCostPerOutcome.get(`${w.projectId}\u0000${w.type}`) ?? null;
      out.push(
        `| ${cell(`${w.displayName} (${w.projectPath})`)} | ${w.outcomes.toLocaleString('en')} ${cell(w.unit)}${w.outcomes === 1n ? '' : 's'} | ${usd(w.costNano)} | ` +
          `${w.costPerOutcomeNano === null ? '—' : formatUsd(w.costPerOutcomeNano, 4)} | ${before === null ? '—' : formatUsd(before, 4)} | ` +
          `${w.baselineNano === null ? '—' : usd(w.baselineNano)} | ${w.savingsNano === null ? '—' : usd(w.savingsNano)} | ${pct(w.roi)} |`,
      );
    }
    out.push('');
    const unmeasured = u.unmeasured.reduce((s, x) => s + x.costNano, 0n);
    out.push(
      `**Measured workloads: ${usd(u.totals.roiCostNano)} spent for ${usd(u.totals.baselineValueNano)} of human work at baseline cost: savings ${usd(u.totals.savingsNano)}, ROI ${pct(u.totals.roi)}.**` +
        (unmeasured > 0n ? ` Spend with no outcome measure: ${usd(unmeasured)} (${u.unmeasured.map((x) => x.projectPath).join(', ')}).` : ''),
      '',
    );
  }

  out.push(`## Biggest movers vs ${p}`, '');
  if (b.movers.length === 0) out.push('No project\'s spend changed.');
  for (const [i, m] of b.movers.entries()) {
    const delta = m.spendNano - m.previousNano;
    out.push(`${i + 1}. **${cell(m.path)}**: ${usd(m.spendNano)}, ${delta >= 0n ? 'up' : 'down'} ${usd(delta < 0n ? -delta : delta)} from ${usd(m.previousNano)}${m.change === null ? ' (new)' : ` (${pct(m.change)})`}`);
  }
  out.push('');
  return out.join('\n');
}

