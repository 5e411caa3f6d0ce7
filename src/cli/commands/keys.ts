import type { Command } from 'commander';
import { createKey } from '../../admin/create-key.ts';
import type { KeyState } from '../../ledger/contract.ts';
import type { CliContext } from '../context.ts';
import { isoOrDash, table, toJson } from '../output.ts';
import { parseExpiry } from '../parse-time.ts';

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('virtual keys: one per agent, shown once, stored only as a hash');

  keys
    .command('create')
    .description('issue a key for an agent (creates missing org/team/project/agent tiers unless --no-create)')
    .requiredOption('--scope <path>', 'the agent: org/team/project/agent, e.g. acme/support/helpdesk/triage-bot')
    .option('--name <name>', 'a label for this key, e.g. prod or ci', 'default')
    .option('--expires <when>', 'expiry: a duration (30d, 12h, 2w) or a UTC date (2026-12-31)')
    .option('--no-create', 'fail instead of creating tiers that do not exist')
    .option('--json', 'print JSON')
    .action(async (o: { scope: string; name: string; expires?: string; create: boolean; json?: boolean }) => {
      const store = await ctx.store();
      const now = ctx.now();
      const res = await createKey(store, {
        scope: o.scope,
        name: o.name,
        expiresAt: o.expires === undefined ? null : parseExpiry(o.expires, now),
        createMissing: o.create,
        actor: ctx.actor,
        now,
      });
      if (o.json) {
        ctx.io.stdout(toJson({ key: res.secret, ...res.key, createdScopes: res.createdScopes }));
        return;
      }
      const lines: string[] = [];
      if (res.createdScopes.length > 0) {
        lines.push(`Created ${res.createdScopes.length} missing tier${res.createdScopes.length === 1 ? '' : 's'}: ${res.createdScopes.join(', ')}`);
      }
      lines.push(
        `Virtual key for ${res.key.scopePath} (name "${res.key.name}", id ${res.key.id}${res.key.expiresAt === null ? '' : `, expires ${isoOrDash(res.key.expiresAt)}`}):`,
        '',
        `    ${res.secret}`,
        '',
        'This is the only time the key is shown: Tollgate keeps only its hash. Store it in your secret manager now.',
        `Later it appears as ${res.key.display} in \`tollgate keys list\`.`,
      );
      ctx.io.stdout(lines.join('\n') + '\n');
    });

  keys
    .command('create-viewer')
    .description('issue a read-only viewer key (tgv-…) for the dashboard and the /api/ reports of one subtree: an org, team, project or agent')
    .requiredOption('--scope <path>', 'the subtree it reads, e.g. acme/support (must exist)')
    .option('--name <name>', 'a label for this key, e.g. the person or team holding it', 'default')
    .option('--expires <when>', 'expiry: a duration (30d, 12h, 2w) or a UTC date (2026-12-31)')
    .option('--json', 'print JSON')
    .action(async (o: { scope: string; name: string; expires?: string; json?: boolean }) => {
      const store = await ctx.store();
      const now = ctx.now();
      const res = await createKey(store, { scope: o.scope, kind: 'viewer', name: o.name, expiresAt: o.expires === undefined ? null : parseExpiry(o.expires, now), actor: ctx.actor, now });
      if (o.json) return ctx.io.stdout(toJson({ key: res.secret, ...res.key }));
      ctx.io.stdout(
        [
          `Viewer key for ${res.key.scopePath} (name "${res.key.name}", id ${res.key.id}${res.key.expiresAt === null ? '' : `, expires ${isoOrDash(res.key.expiresAt)}`}):`,
          '',
          `    ${res.secret}`,
          '',
          `It signs in to the dashboard and reads the /api/ reports of ${res.key.scopePath} and below; it changes nothing and makes no model calls.`,
          'This is the only time the key is shown: Tollgate keeps only its hash. Hand it over through your secret manager now.',
          `Later it appears as ${res.key.display} in \`tollgate keys list\`.`,
        ].join('\n') + '\n',
      );
    });

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--scope <path>', 'only keys in this subtree')
    .option('--all', 'include revoked keys')
    .option('--json', 'print JSON')
    .action(async (o: { scope?: string; all?: boolean; json?: boolean }) => {
      const store = await ctx.store();
      const list = await store.directory.listKeys({ ...(o.scope === undefined ? {} : { under: o.scope }), includeRevoked: o.all === true });
      if (o.json) return ctx.io.stdout(toJson(list));
      if (list.length === 0) return ctx.io.stdout(`No keys${o.scope ? ` under ${o.scope}` : ''}. Create one with: tollgate keys create --scope org/team/project/agent\n`);
      const now = ctx.now();
      ctx.io.stdout(
        table(
          ['id', 'key', 'kind', 'scope', 'name', 'state', 'created', 'expires'],
          list.map((k) => [k.id, k.display, k.kind, k.scopePath, k.name, k.state === 'active' && k.expiresAt !== null && k.expiresAt <= now ? 'expired' : k.state, isoOrDash(k.createdAt), isoOrDash(k.expiresAt)]),
        ),
      );
    });

  const transitions: [string, KeyState, string][] = [
    ['revoke', 'revoked', 'revoke a key for good (calls with it are refused from now on)'],
    ['suspend', 'suspended', 'suspend a key (refused until resumed)'],
    ['resume', 'active', 're-activate a suspended key'],
  ];
  for (const [name, state, description] of transitions) {
    keys
      .command(name)
      .description(description)
      .argument('<key>', 'key id (key_…) or the start of its display form (tg-xxxxxx, tgv-xxxxxx)')
      .option('--json', 'print JSON')
      .action(async (ref: string, o: { json?: boolean }) => {
        const store = await ctx.store();
        const rec = await store.directory.setKeyState(ref, state, ctx.actor);
        if (o.json) return ctx.io.stdout(toJson(rec));
        ctx.io.stdout(`Key ${rec.id} (${rec.display}, ${rec.scopePath}) is now ${rec.state}.\n`);
      });
  }
}
