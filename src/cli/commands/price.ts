import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { formatUsd, nanoToDecimalString } from '../../domain/money.ts';
import { usage } from '../../domain/usage.ts';
import { parseUtcInstant } from '../../pricing/index.ts';
import type { CliContext } from '../context.ts';
import { toJson } from '../output.ts';

function count(v: string): number {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative whole number of tokens');
  return n;
}

export function registerPrice(program: Command, ctx: CliContext): void {
  program
    .command('price')
    .description('price a usage exactly, as the ledger would (catalog + your overrides from the config)')
    .requiredOption('--provider <id>', 'e.g. openai, anthropic')
    .requiredOption('--model <model>', 'e.g. claude-sonnet-4-5')
    .option('--input <n>', 'uncached input tokens', count, 0)
    .option('--cache-read <n>', 'input tokens read from cache', count, 0)
    .option('--cache-write <n>', 'input tokens written to the 5-minute cache', count, 0)
    .option('--cache-write-1h <n>', 'input tokens written to the 1-hour cache', count, 0)
    .option('--output <n>', 'output tokens (reasoning included)', count, 0)
    .option('--reasoning <n>', 'of the output, reasoning tokens', count, 0)
    .option('--at <when>', 'price at this UTC date/time (default now)')
    .option('--json', 'print JSON')
    .action((o: { provider: string; model: string; input: number; cacheRead: number; cacheWrite: number; cacheWrite1h: number; output: number; reasoning: number; at?: string; json?: boolean }) => {
      const at = o.at === undefined ? ctx.now() : parseUtcInstant(o.at);
      if (at === null) throw new InvalidArgumentError(`cannot read --at "${o.at}": use e.g. 2026-03-01 or 2026-03-01T12:00:00Z`);
      const u = usage({ inputTokens: o.input, cacheReadTokens: o.cacheRead, cacheWrite5mTokens: o.cacheWrite, cacheWrite1hTokens: o.cacheWrite1h, outputTokens: o.output, reasoningTokens: o.reasoning });
      const q = ctx.pricer().price(o.provider, o.model, u, at);
      if (o.json) return ctx.io.stdout(toJson({ ...q, listUsd: nanoToDecimalString(q.listNano), effectiveUsd: nanoToDecimalString(q.effectiveNano), at: new Date(at).toISOString() }));
      if (q.source === 'unpriced') {
        ctx.io.stdout(`${o.provider}/${o.model} is not in the price catalog and no fallback price is configured: calls to it are recorded as UNPRICED (cost 0, flagged in reports).\nAdd it under pricing.custom_models in tollgate.yaml, or set pricing.fallback.\n`);
        return;
      }
      const lines = [
        `${o.provider}/${o.model} → ${q.catalogModelId ?? o.model} (${q.source}${q.tierStart > 0 ? `, long-context tier above ${q.tierStart.toLocaleString('en')} input tokens` : ''})`,
        `list:      ${formatUsd(q.listNano, 9)}`,
        `effective: ${formatUsd(q.effectiveNano, 9)}${q.discountBp > 0 ? `  (${q.discountBp / 100}% negotiated discount)` : ''}`,
      ];
      ctx.io.stdout(lines.join('\n') + '\n');
    });
}
