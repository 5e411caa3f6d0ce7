import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { describeChange, repriceJson } from '../../analytics/pricing-scenarios/reprice-json.ts';
import { reprice } from '../../analytics/pricing-scenarios/repricer.ts';
import type { RepriceLine, RepriceReport } from '../../analytics/pricing-scenarios/repricer.ts';
import { parseScenario } from '../../analytics/pricing-scenarios/scenario-schema.ts';
import type { Scenario } from '../../analytics/pricing-scenarios/scenario-schema.ts';
import { formatBp, ratioBp } from '../../analytics/showback.ts';
import { reportWindow } from '../../analytics/unit-period.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd } from '../../domain/money.ts';
import type { CliContext } from '../context.ts';
import { table, toJson } from '../output.ts';

const BY = ['team', 'agent', 'model'] as const;
type By = (typeof BY)[number];
const TOP_AGENTS = 5;

/** Reads and parses a scenario file; errors name the file. */
export function readScenario(file: string): Scenario {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TollgateError('invalid_request', `cannot read scenario file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseScenario(text, path);
}

/** `tollgate reprice`: the same ledger at a scenario's prices, and who is hit hardest. */
export function registerReprice(program: Command, ctx: CliContext): void {
  program
    .command('reprice')
    .description('the ledger re-priced under a price scenario (YAML): total base vs scenario, and the teams and agents hit hardest')
    .requiredOption('--scenario <file>', 'scenario YAML (see examples/scenario-anthropic-2x.yaml)')
    .option('--from <date>', 'window start, UTC (inclusive)')
    .option('--to <date>', 'window end, UTC (exclusive)')
    .option('--month <YYYY-MM>', 'a calendar month instead of --from/--to (default: this month)')
    .option('--scope <path>', 'only lines of this subtree')
    .addOption(new Option('--by <group>', 'one full table by team, agent or model (default: teams, then the top agents)').choices(BY))
    .option('--json', 'print JSON')
    .action(async (o: { scenario: string; from?: string; to?: string; month?: string; scope?: string; by?: By; json?: boolean }) => {
      const scenario = readScenario(o.scenario);
      const window = reportWindow(o, ctx.now());
      const store = await ctx.store();
      const r = await reprice(store, scenario, { from: window.from, to: window.to, pricing: ctx.config().config.pricing, ...(o.scope === undefined ? {} : { scope: o.scope }) });
      if (o.json) return ctx.io.stdout(toJson(repriceJson(r)));
      ctx.io.stdout(renderReprice(r, window.label, o.by));
    });
}

const signed = (nano: bigint) => (nano > 0n ? `+${formatUsd(nano)}` : formatUsd(nano));
const pct = (delta: bigint, base: bigint) => formatBp(ratioBp(delta, base), { sign: true });

/** A line's part of the total delta (of a cut as of a rise). */
function shareOf(part: bigint, total: bigint): string {
  return total < 0n ? formatBp(ratioBp(-part, -total)) : formatBp(ratioBp(part, total));
}

export function renderReprice(r: RepriceReport, label: string, by?: By): string {
  const out: string[] = [];
  out.push(`Scenario "${r.scenario.name}" on ${r.scope ?? 'the whole ledger'}, ${label} (effective cost; base = the ledger as recorded)`);
  if (r.scenario.description) out.push(r.scenario.description);
  out.push('');
  if (r.calls === 0 && r.unusedCommitmentNano === 0n) {
    out.push(`No calls recorded ${r.scope ? `under ${r.scope} ` : ''}in this window: nothing to reprice.`);
    return out.join('\n') + '\n';
  }
  out.push(
    table(
      ['', 'base', 'scenario', 'delta', 'delta %'],
      [['total', formatUsd(r.baseNano), formatUsd(r.scenarioNano), signed(r.deltaNano), pct(r.deltaNano, r.baseNano)]],
      ['left', 'right', 'right', 'right', 'right'],
    ) + `${r.calls.toLocaleString('en')} calls, ${r.changedCalls.toLocaleString('en')} of them cost differently under the scenario.`,
  );
  out.push('', 'What the scenario did (each change\'s own delta, in file order):');
  for (const e of r.changes) {
    out.push(`  ${e.index + 1}. ${describeChange(e.change)}: ${e.calls.toLocaleString('en')} call${e.calls === 1 ? '' : 's'}, ${signed(e.deltaNano)}`);
    for (const p of e.periods) {
      out.push(`       ${p.label}: commitment ${formatUsd(p.commitmentNano)}, used ${formatUsd(p.usedNano)}, unused ${formatUsd(p.unusedNano)}${p.unusedNano > 0n ? (r.scope ? ' (paid by the org, not in this scope)' : ' (paid)') : ''}`);
    }
  }
  const groups: [By, RepriceLine[], number][] = by
    ? [[by, by === 'team' ? r.byTeam : by === 'agent' ? r.byAgent : r.byModel, Infinity]]
    : [['team', r.byTeam, Infinity], ['agent', r.byAgent, TOP_AGENTS]];
  for (const [name, lines, limit] of groups) {
    const shown = lines.slice(0, limit);
    out.push('', `Hardest hit ${name === 'team' ? 'teams' : name === 'agent' ? 'agents' : 'models'}${shown.length < lines.length ? ` (top ${shown.length} of ${lines.length})` : ''}:`);
    const rows = shown.map((l, i) => [i + 1, l.name, formatUsd(l.baseNano), formatUsd(l.scenarioNano), signed(l.deltaNano), pct(l.deltaNano, l.baseNano), shareOf(l.deltaNano, r.deltaNano)]);
    // An unused commitment is paid by the org, not by a team: its own row, so the column adds up.
    if (name === 'team' && r.unusedCommitmentNano > 0n && !r.scope) {
      rows.push(['', '(unused commitment)', '$0.00', formatUsd(r.unusedCommitmentNano), signed(r.unusedCommitmentNano), '—', shareOf(r.unusedCommitmentNano, r.deltaNano)]);
    }
    out.push(table(['rank', name, 'base', 'scenario', 'delta', 'delta %', 'share of delta'], rows, ['right', 'left', 'right', 'right', 'right', 'right', 'right']).trimEnd());
  }
  if (r.recordedDiffers > 0) {
    out.push('', `Note: ${r.recordedDiffers.toLocaleString('en')} repriced call(s) were recorded at a price that differs from today's (config or catalog changed since); the scenario's delta is measured against today's price for them.`);
  }
  return out.join('\n') + '\n';
}
