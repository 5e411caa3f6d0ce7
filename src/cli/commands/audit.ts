import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { isoOrDash, table, toJson } from '../output.ts';

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .description('the audit log of administrative changes, newest first')
    .option('--limit <n>', 'how many entries', positiveInt, 50)
    .option('--target <target>', 'only entries about this scope path or key id')
    .option('--json', 'print JSON')
    .action(async (o: { limit: number; target?: string; json?: boolean }) => {
      const store = await ctx.store();
      const entries = await store.directory.audit({ limit: o.limit, ...(o.target === undefined ? {} : { target: o.target }) });
      if (o.json) return ctx.io.stdout(toJson(entries));
      ctx.io.stdout(
        table(
          ['when', 'actor', 'action', 'target', 'change'],
          entries.map((e) => [isoOrDash(e.at), e.actor, e.action, e.target, `${e.before === null ? '' : JSON.stringify(e.before) + ' → '}${JSON.stringify(e.after)}`]),
        ),
      );
    });
}
