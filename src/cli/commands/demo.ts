import type { Command } from 'commander';
import { reissueKey } from '../../admin/create-key.ts';
import { seedDemo } from '../../demo/seed-demo.ts';
import type { CliContext } from '../context.ts';
import { toJson } from '../output.ts';
import { currentMonth, parseMonth } from '../parse-time.ts';
import { renderTree } from './scopes.ts';
import { renderSpend, spendByGroup } from './spend.ts';

export const DEMO_KEY_SCOPE = 'acme/support/helpdesk/triage-bot';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('seed a demo organisation with 30 days of priced calls, print the tree, this month\'s spend and a demo key')
    .option('--days <n>', 'days of history to seed', '30')
    .option('--json', 'print JSON')
    .action(async (o: { days: string; json?: boolean }) => {
      const store = await ctx.store();
      const now = ctx.now();
      const seeded = await seedDemo(store, ctx.pricer(), { now, days: Math.max(1, Math.min(400, Number(o.days) || 30)), actor: ctx.actor });
      // One live demo key at a time: demo runs do not pile up keys.
      const key = await reissueKey(store, { scope: DEMO_KEY_SCOPE, name: 'demo', actor: ctx.actor, now });
      const month = parseMonth(currentMonth(now));
      const spend = await spendByGroup(store, month, 'team', 'acme');
      if (o.json) {
        return ctx.io.stdout(toJson({ database: store.location, seeded: { inserted: seeded.inserted, total: seeded.total }, createdScopes: seeded.created, key: key.secret, keyId: key.key.id, spend }));
      }
      const out = [
        `Tollgate demo: ledger at ${store.location} (${store.capabilities.dialect})`,
        '',
        seeded.inserted > 0
          ? `Seeded ${seeded.inserted.toLocaleString('en')} calls over the last ${o.days} days, each priced from the catalog at its own timestamp.`
          : `Demo data already present (${seeded.total.toLocaleString('en')} calls checked, none new).`,
        '',
        renderTree(await store.directory.listScopes({ under: 'acme' })),
        `Spend in ${month.label} by team (from the ledger rollups):`,
        '',
        renderSpend(spend, 'team', month.label),
        `Demo key for ${DEMO_KEY_SCOPE} (shown once; Tollgate stores only its hash):`,
        '',
        `    ${key.secret}`,
        '',
        'Next steps:',
        '  ./bin/tollgate.js spend --by agent          who spends what this month',
        '  ./bin/tollgate.js keys create --scope acme/eng/ci/my-agent',
        '  ./bin/tollgate.js keys list',
        '  ./bin/tollgate.js price --provider anthropic --model claude-sonnet-4-5 --input 250000 --output 1000',
        '  ./bin/tollgate.js --help',
        '',
      ];
      ctx.io.stdout(out.join('\n'));
    });
}
