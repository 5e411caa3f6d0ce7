import type { Command } from 'commander';
import type { ScopeNode } from '../../ledger/contract.ts';
import type { CliContext } from '../context.ts';
import { toJson } from '../output.ts';

export function registerScopes(program: Command, ctx: CliContext): void {
  const scopes = program.command('scopes').description('the org / team / project / agent tree');

  scopes
    .command('list')
    .description('print the tree')
    .option('--scope <path>', 'only this subtree')
    .option('--all', 'include archived scopes')
    .option('--json', 'print JSON')
    .action(async (o: { scope?: string; all?: boolean; json?: boolean }) => {
      const store = await ctx.store();
      const nodes = await store.directory.listScopes({ ...(o.scope === undefined ? {} : { under: o.scope }), includeArchived: o.all === true });
      if (o.json) return ctx.io.stdout(toJson(nodes));
      if (nodes.length === 0) return ctx.io.stdout('No scopes yet. `tollgate keys create --scope org/team/project/agent` creates them.\n');
      ctx.io.stdout(renderTree(nodes));
    });

  scopes
    .command('create')
    .description('create a scope and any missing parents')
    .argument('<path>', 'e.g. acme/support/helpdesk')
    .option('--json', 'print JSON')
    .action(async (path: string, o: { json?: boolean }) => {
      const store = await ctx.store();
      const res = await store.directory.ensureScope(path, { create: true, actor: ctx.actor });
      if (o.json) return ctx.io.stdout(toJson(res));
      ctx.io.stdout(res.created.length === 0 ? `${path} already exists.\n` : `Created ${res.created.join(', ')}.\n`);
    });

  scopes
    .command('rename')
    .description('change a scope\'s path segment and/or display name (history stays attached: the ledger keeps ids)')
    .argument('<path>', 'the scope to rename')
    .option('--slug <slug>', 'new path segment')
    .option('--name <name>', 'new display name')
    .option('--json', 'print JSON')
    .action(async (path: string, o: { slug?: string; name?: string; json?: boolean }) => {
      const store = await ctx.store();
      const node = await store.directory.renameScope(path, { ...(o.slug === undefined ? {} : { slug: o.slug }), ...(o.name === undefined ? {} : { name: o.name }) }, ctx.actor);
      if (o.json) return ctx.io.stdout(toJson(node));
      ctx.io.stdout(`Renamed ${path} → ${node.path} ("${node.name}").\n`);
    });

  scopes
    .command('archive')
    .description('archive a scope and its subtree: its keys stop working, its history stays')
    .argument('<path>', 'the scope to archive')
    .option('--json', 'print JSON')
    .action(async (path: string, o: { json?: boolean }) => {
      const store = await ctx.store();
      const count = await store.directory.archiveScope(path, ctx.actor);
      if (o.json) return ctx.io.stdout(toJson({ path, archived: count }));
      ctx.io.stdout(count === 0 ? `${path} was already archived.\n` : `Archived ${path} (${count} scope${count === 1 ? '' : 's'}); keys beneath it are refused from now on.\n`);
    });
}

export function renderTree(nodes: readonly ScopeNode[]): string {
  const children = new Map<string | null, ScopeNode[]>();
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) {
    const parent = n.parentId !== null && ids.has(n.parentId) ? n.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), n]);
  }
  const lines: [string, ScopeNode][] = [];
  const walk = (parent: string | null, prefix: string, root: boolean) => {
    const kids = children.get(parent) ?? [];
    kids.forEach((n, i) => {
      const last = i === kids.length - 1;
      lines.push([root ? (parent === null && n.parentId !== null ? n.path : n.slug) : `${prefix}${last ? '└─ ' : '├─ '}${n.slug}`, n]);
      walk(n.id, root ? '' : prefix + (last ? '   ' : '│  '), false);
    });
  };
  walk(null, '', true);
  const width = Math.max(...lines.map(([l]) => [...l].length));
  return (
    lines
      .map(([label, n]) => `${label}${' '.repeat(width - [...label].length)}  ${n.tier}${n.name !== n.slug ? `  "${n.name}"` : ''}${n.archivedAt !== null ? '  (archived)' : ''}`)
      .join('\n') + '\n'
  );
}
