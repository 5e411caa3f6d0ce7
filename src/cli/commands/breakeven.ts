import type { Command } from 'commander';
import { apiUsageOf, breakeven } from '../../analytics/breakeven.ts';
import type { ApiUsage, Breakeven, SelfHost } from '../../analytics/breakeven.ts';
import { reprice } from '../../analytics/pricing-scenarios/repricer.ts';
import { formatBp, ratioBp } from '../../analytics/showback.ts';
import { DAY_MS, isoDay, reportWindow } from '../../analytics/unit-period.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd, nanoToDecimalString, parseDecimal, usdToNano } from '../../domain/money.ts';
import type { CliContext } from '../context.ts';
import { toJson } from '../output.ts';
import { readScenario } from './reprice.ts';

interface Options {
  model: string;
  from?: string;
  to?: string;
  gpuHourly: string;
  gpus: string;
  tokensPerSecond: string;
  utilisation: string;
  opsHeadcount: string;
  salary: string;
  scenario?: string;
  json?: boolean;
}

/** `tollgate breakeven`: a model's API bill from the ledger against running it yourself. */
export function registerBreakeven(program: Command, ctx: CliContext): void {
  program
    .command('breakeven')
    .description('self-hosting a model vs its API bill: the ledger\'s monthly volume and cost against GPUs (paid busy or idle) and people, and the break-even volume')
    .requiredOption('--model <model>', 'the model as the ledger records it, e.g. claude-sonnet-4-5 (dated snapshots included)')
    .option('--from <date>', 'ledger window start, UTC (default: 30 days before today)')
    .option('--to <date>', 'ledger window end, UTC, exclusive (default: today 00:00)')
    .requiredOption('--gpu-hourly <usd>', 'price of one GPU-hour, e.g. 4.50')
    .requiredOption('--gpus <n>', 'GPUs in the deployment, paid 730 hours a month')
    .requiredOption('--tokens-per-second <n>', 'throughput of ONE GPU at full load, input and output tokens together')
    .option('--utilisation <fraction>', 'share of the paid time the GPUs do useful work: 0.4 or 40%', '0.4')
    .option('--ops-headcount <n>', 'people running the deployment (fractions allowed)', '0')
    .option('--salary <usd>', 'fully loaded cost of one person a year', '0')
    .option('--scenario <file>', 'also show the break-even with API prices under a pricing scenario')
    .option('--json', 'print JSON')
    .action(async (o: Options) => {
      const s = selfHostOf(o);
      const today = Math.floor(ctx.now() / DAY_MS) * DAY_MS;
      const window = o.from === undefined && o.to === undefined ? { from: today - 30 * DAY_MS, to: today } : reportWindow(o, ctx.now());
      const store = await ctx.store();
      const usage = await apiUsageOf(store, o.model, window);
      const b = breakeven(usage, s);
      let scenario: { name: string; usage: ApiUsage; result: Breakeven } | null = null;
      if (o.scenario) {
        const sc = readScenario(o.scenario);
        const r = await reprice(store, sc, { from: window.from, to: window.to, pricing: ctx.config().config.pricing });
        const models = new Set(usage.models);
        const costNano = r.byModel.filter((l) => models.has(l.name.slice(l.name.indexOf('/') + 1))).reduce((sum, l) => sum + l.scenarioNano, 0n);
        const scenarioUsage = { ...usage, costNano };
        scenario = { name: sc.name, usage: scenarioUsage, result: breakeven(scenarioUsage, s) };
      }
      if (o.json) return ctx.io.stdout(toJson(breakevenJson(o.model, window, usage, s, b, scenario)));
      ctx.io.stdout(renderBreakeven(o.model, window, usage, s, b, scenario));
    });
}

function selfHostOf(o: Options): SelfHost {
  const decimal = (v: string, places: number, what: string, ok: (n: bigint) => boolean, hint: string) => {
    let n: bigint;
    try {
      n = parseDecimal(v.trim().replace(/_/g, ''), places);
    } catch {
      throw new TollgateError('invalid_request', `${what} "${v}" ${hint}`);
    }
    if (!ok(n)) throw new TollgateError('invalid_request', `${what} "${v}" ${hint}`);
    return n;
  };
  const usd = (v: string, what: string) => {
    try {
      const n = usdToNano(v);
      if (n >= 0n) return n;
    } catch {
      // reported below
    }
    throw new TollgateError('invalid_request', `${what} "${v}" must be an amount of USD, e.g. 4.50`);
  };
  const pct = o.utilisation.trim().endsWith('%');
  const utilisation = pct
    ? decimal(o.utilisation.trim().slice(0, -1), 2, '--utilisation', (n) => n > 0n && n <= 10_000n, 'must be above 0% and at most 100%')
    : decimal(o.utilisation, 4, '--utilisation', (n) => n > 0n && n <= 10_000n, 'must be a fraction above 0 and at most 1 (e.g. 0.4), or a percentage (40%)');
  return {
    gpuHourlyNano: usd(o.gpuHourly, '--gpu-hourly'),
    gpus: decimal(o.gpus, 0, '--gpus', (n) => n >= 1n && n <= 1_000_000n, 'must be a whole number of GPUs, at least 1'),
    tokensPerSecond: decimal(o.tokensPerSecond, 0, '--tokens-per-second', (n) => n >= 1n, 'must be a whole number of tokens a second per GPU, at least 1'),
    utilisationBp: utilisation,
    opsHeadcountCenti: decimal(o.opsHeadcount, 2, '--ops-headcount', (n) => n >= 0n, 'must be a number of people, e.g. 1.5'),
    salaryNano: usd(o.salary, '--salary'),
  };
}

const mtok = (tokens: bigint) => `${(Number(tokens) / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })}M tokens`;
const times = (a: bigint, b: bigint) => (b > 0n ? `${(Number((a * 10n) / b) / 10).toLocaleString('en')}×` : '—');

export function renderBreakeven(
  model: string,
  window: { from: number; to: number },
  usage: ApiUsage & { models: string[] },
  s: SelfHost,
  b: Breakeven,
  scenario: { name: string; usage: ApiUsage; result: Breakeven } | null,
): string {
  const days = Math.round((window.to - window.from) / DAY_MS);
  const gpuShare = ratioBp(b.selfHost.gpuNano, b.selfHost.totalNano);
  const peopleShare = ratioBp(b.selfHost.peopleNano, b.selfHost.totalNano);
  const dominant = (gpuShare ?? 0) >= (peopleShare ?? 0) ? `GPU time (${formatBp(gpuShare)} of the self-host cost), then people (${formatBp(peopleShare)})` : `people (${formatBp(peopleShare)} of the self-host cost), then GPU time (${formatBp(gpuShare)})`;
  const out = [
    `Self-hosting ${model} vs its API bill: ledger ${isoDay(window.from)} → ${isoDay(window.to)} (${days} days${usage.models.length > 1 || usage.models[0] !== model ? `; ${usage.models.join(', ')}` : ''}), scaled to a 730-hour month. Estimates, USD.`,
    '',
    'API, from the ledger',
    `  volume     ${mtok(b.api.monthlyTokens)} a month (${usage.calls.toLocaleString('en')} calls in the window)`,
    `  cost       ${formatUsd(b.api.monthlyCostNano)} a month, ${formatUsd(b.api.perMTokNano)} per million tokens (effective, at your input/output mix)`,
    '',
    `Self-hosted: ${s.gpus} GPUs × ${formatUsd(s.gpuHourlyNano)}/h × 730 h + ${Number(s.opsHeadcountCenti) / 100} people × ${formatUsd(s.salaryNano, 0)}/year`,
    `  GPUs       ${formatUsd(b.selfHost.gpuNano)} a month (paid busy or idle)`,
    `  people     ${formatUsd(b.selfHost.peopleNano)} a month`,
    `  total      ${formatUsd(b.selfHost.totalNano)} a month`,
    `  capacity   ${s.tokensPerSecond.toLocaleString('en')} tokens/s per GPU × ${s.gpus} × ${formatBp(Number(s.utilisationBp))} busy = ${mtok(b.selfHost.capacityTokens)} a month: ` +
      (b.fits ? `today's volume fits (${formatBp(ratioBp(b.api.monthlyTokens, b.selfHost.capacityTokens))} of it)` : `today's volume does NOT fit (${times(b.api.monthlyTokens, b.selfHost.capacityTokens)} of it)`),
    '',
    'Break-even',
    `  The API costs as much as this deployment at ${mtok(b.breakevenTokens)} a month, ${times(b.breakevenTokens, b.api.monthlyTokens)} today's volume` +
      (b.breakevenFits ? ', within its capacity.' : `, beyond its capacity (${mtok(b.selfHost.capacityTokens)}).`),
    b.apiSavesNano >= 0n ? `  Today the API is ${formatUsd(b.apiSavesNano)} a month cheaper.` : `  Today self-hosting would save ${formatUsd(-b.apiSavesNano)} a month.`,
    b.atScale
      ? `  Sized to the volume (GPUs added one at a time, same throughput and utilisation), self-hosting pays from ${mtok(b.atScale.tokens)} a month on ${b.atScale.gpus} GPU${b.atScale.gpus === 1n ? '' : 's'}: one GPU's monthly capacity is worth ${formatUsd(b.selfHost.perGpu.apiValueNano)} at API prices against ${formatUsd(b.selfHost.perGpu.monthlyNano)} for the GPU.`
      : `  No fleet size pays: one GPU's monthly capacity (${mtok(b.selfHost.perGpu.capacityTokens)}) is worth ${formatUsd(b.selfHost.perGpu.apiValueNano)} at API prices, less than the ${formatUsd(b.selfHost.perGpu.monthlyNano)} the GPU costs.`,
    `  Dominant input: ${dominant}. Break-even volume moves in proportion to the self-host cost and inversely to the API price; throughput and utilisation decide only whether it fits.`,
  ];
  if (scenario) {
    const r = scenario.result;
    out.push(
      '',
      `Under scenario "${scenario.name}": API ${formatUsd(r.api.monthlyCostNano)} a month (${formatUsd(r.api.perMTokNano)}/MTok, ${formatBp(ratioBp(r.api.perMTokNano - b.api.perMTokNano, b.api.perMTokNano), { sign: true })}); ` +
        `break-even ${mtok(r.breakevenTokens)} a month, ${times(r.breakevenTokens, r.api.monthlyTokens)} today's volume (was ${times(b.breakevenTokens, b.api.monthlyTokens)}).`,
    );
  }
  return out.join('\n') + '\n';
}

function breakevenJson(
  model: string,
  window: { from: number; to: number },
  usage: ApiUsage & { models: string[] },
  s: SelfHost,
  b: Breakeven,
  scenario: { name: string; usage: ApiUsage; result: Breakeven } | null,
) {
  const usd = nanoToDecimalString;
  const result = (r: Breakeven) => ({
    api: { monthly_tokens: r.api.monthlyTokens, monthly_cost_usd: usd(r.api.monthlyCostNano), per_mtok_usd: usd(r.api.perMTokNano) },
    breakeven_tokens_per_month: r.breakevenTokens,
    breakeven_fits_capacity: r.breakevenFits,
    api_cheaper_by_usd_per_month: usd(r.apiSavesNano),
    at_scale: r.atScale && { gpus: r.atScale.gpus, tokens_per_month: r.atScale.tokens },
  });
  return {
    model,
    models: usage.models,
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    month_hours: 730,
    calls: usage.calls,
    inputs: {
      gpu_hourly_usd: usd(s.gpuHourlyNano),
      gpus: s.gpus,
      tokens_per_second_per_gpu: s.tokensPerSecond,
      utilisation: Number(s.utilisationBp) / 10_000,
      ops_headcount: Number(s.opsHeadcountCenti) / 100,
      salary_usd: usd(s.salaryNano),
    },
    self_host: {
      gpu_usd_per_month: usd(b.selfHost.gpuNano),
      people_usd_per_month: usd(b.selfHost.peopleNano),
      total_usd_per_month: usd(b.selfHost.totalNano),
      capacity_tokens_per_month: b.selfHost.capacityTokens,
      fits: b.fits,
      per_gpu: { usd_per_month: usd(b.selfHost.perGpu.monthlyNano), capacity_tokens: b.selfHost.perGpu.capacityTokens, api_value_usd: usd(b.selfHost.perGpu.apiValueNano) },
    },
    ...result(b),
    scenario: scenario && { name: scenario.name, ...result(scenario.result) },
  };
}
