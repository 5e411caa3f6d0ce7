import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { TollgateError } from '../../domain/errors.ts';
import { formatScope, parseScope } from '../../domain/scope.ts';
import type { CliContext } from '../context.ts';
import { isoOrDash, table, toJson } from '../output.ts';

function count(v: string): number {
  if (v === 'none') return 0;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number above 0 (or "none")');
  return n;
}

/** Kill switches and rate limits. */
export function registerControls(program: Command, ctx: CliContext): void {
  program
    .command('kill')
    .description('stop every call of a scope and its subtree at once, on every replica (in-flight streams are cut)')
    .requiredOption('--scope <path>', 'the scope to stop, e.g. acme/support/helpdesk/triage-bot')
    .requiredOption('--reason <text>', 'why: shown in every refusal and kept in the audit log')
    .option('--json', 'print JSON')
    .action(async (o: { scope: string; reason: string; json?: boolean }) => {
      const store = await ctx.store();
      const k = await store.controls.kill(o.scope, o.reason, ctx.actor);
      if (o.json) return ctx.io.stdout(toJson(k));
      ctx.io.stdout(`Killed ${k.scopePath} at ${isoOrDash(k.at)}: ${k.reason}\nEvery gateway refuses its calls within a second. Undo with: tollgate revive --scope ${k.scopePath}\n`);
    });

  program
    .command('revive')
    .description('lift the kill switch of a scope')
    .requiredOption('--scope <path>', 'the killed scope')
    .option('--json', 'print JSON')
    .action(async (o: { scope: string; json?: boolean }) => {
      const store = await ctx.store();
      const k = await store.controls.revive(o.scope, ctx.actor);
      if (o.json) return ctx.io.stdout(toJson({ revived: k }));
      ctx.io.stdout(`Revived ${k.scopePath} (killed by ${k.actor} at ${isoOrDash(k.at)}: ${k.reason}).\n`);
    });

  const limits = program.command('limits').description('requests and tokens per minute, per scope (usually an agent)');
  limits
    .command('set')
    .description('set a scope\'s rate limits; "none" removes one')
    .requiredOption('--scope <path>', 'the scope, e.g. acme/support/helpdesk/triage-bot')
    .option('--rpm <n>', 'requests per minute, or none', count)
    .option('--tpm <n>', 'tokens per minute (input + output), or none', count)
    .action(async (o: { scope: string; rpm?: number; tpm?: number }) => {
      // Without either, the update would silently keep (or remove) what is there.
      if (o.rpm === undefined && o.tpm === undefined) throw new TollgateError('invalid_request', 'give --rpm, --tpm or both (a number, or "none" to remove that limit)');
      const store = await ctx.store();
      const path = formatScope(parseScope(o.scope));
      const current = (await store.controls.listRateLimits({ under: path })).find((l) => l.scopePath === path);
      const pick = (given: number | undefined, was: number | null | undefined) => (given === undefined ? (was ?? null) : given === 0 ? null : given);
      const l = await store.controls.setRateLimit(path, { rpm: pick(o.rpm, current?.rpm), tpm: pick(o.tpm, current?.tpm) }, ctx.actor);
      ctx.io.stdout(l ? `Rate limits of ${l.scopePath}: ${l.rpm ?? 'no'} requests/min, ${l.tpm ?? 'no'} tokens/min.\n` : `Removed the rate limits of ${path}.\n`);
    });
  limits
    .command('list')
    .description('rate limits and kill switches in force')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const store = await ctx.store();
      const [list, kills] = await Promise.all([store.controls.listRateLimits(), store.controls.listKills()]);
      if (o.json) return ctx.io.stdout(toJson({ limits: list, kills }));
      ctx.io.stdout(
        (list.length === 0 ? 'No rate limits.\n' : table(['scope', 'rpm', 'tpm'], list.map((l) => [l.scopePath, l.rpm ?? '—', l.tpm ?? '—']), ['left', 'right', 'right'])) +
          (kills.length === 0 ? 'No kill switches.\n' : '\n' + table(['killed scope', 'by', 'at', 'reason'], kills.map((k) => [k.scopePath, k.actor, isoOrDash(k.at), k.reason]))),
      );
    });
}
