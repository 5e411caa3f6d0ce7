import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { OUTCOME_FIELDS, parseOutcome } from '../../analytics/unit-outcome-input.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd, nanoToDecimalString, usdToNano } from '../../domain/money.ts';
import type { ScopeChain } from '../../domain/scope.ts';
import type { Store } from '../../ledger/contract.ts';
import type { OutcomeInput, OutcomeType } from '../../ledger/outcomes-contract.ts';
import type { CliContext } from '../context.ts';
import { isoOrDash, table, toJson } from '../output.ts';

/** Bad rows listed before an import gives up (all are counted). */
const MAX_ROW_ERRORS = 20;

/** `tollgate outcomes types …` and `tollgate import outcomes`. */
export function registerOutcomes(program: Command, ctx: CliContext): void {
  const outcomes = program.command('outcomes').description('what agents produce (resolved tickets, merged PRs) and the human baseline it is compared with');
  const types = outcomes.command('types').description('outcome types per project: display name, unit, human baseline cost, target $/outcome');

  types
    .command('set')
    .description('create or replace an outcome type of a project (audited)')
    .requiredOption('--project <path>', 'the project, e.g. acme/support/helpdesk')
    .requiredOption('--type <slug>', 'the type agents report, e.g. resolved_ticket')
    .requiredOption('--name <text>', 'display name, e.g. "Resolved ticket"')
    .requiredOption('--unit <unit>', 'what one outcome is counted in: ticket, PR, lead, document')
    .requiredOption('--baseline <usd>', 'what one outcome costs when a human does it, e.g. 6.00')
    .option('--target <usd>', 'the project\'s unit-economics target, $ per outcome')
    .option('--json', 'print JSON')
    .action(async (o: { project: string; type: string; name: string; unit: string; baseline: string; target?: string; json?: boolean }) => {
      const store = await ctx.store();
      const { type, before } = await store.outcomes.setType(
        { projectPath: o.project, type: o.type.trim(), displayName: o.name, unit: o.unit, baselineNano: usdOption(o.baseline, 'baseline'), targetNano: o.target === undefined ? null : usdOption(o.target, 'target') },
        ctx.actor,
      );
      if (o.json) return ctx.io.stdout(toJson({ type: typeJson(type), replaced: before !== null }));
      ctx.io.stdout(
        `${before ? 'Updated' : 'Set'} outcome type ${type.type} of ${type.projectPath}: "${type.displayName}", counted per ${type.unit}, ` +
          `human baseline ${formatUsd(type.baselineNano ?? 0n)} per ${type.unit}${type.targetNano === null ? ', no target' : `, target ${formatUsd(type.targetNano)} per ${type.unit}`}.\n` +
          `Agents report it with POST /v1/outcomes {"type":"${type.type}","count":1,"occurred_at":"…","idempotency_key":"…"}, or: tollgate import outcomes file.csv --scope ${type.projectPath}/<agent>\n`,
      );
    });

  types
    .command('list')
    .description('outcome types with their baselines and targets')
    .option('--scope <path>', 'only projects in this subtree')
    .option('--json', 'print JSON')
    .action(async (o: { scope?: string; json?: boolean }) => {
      const store = await ctx.store();
      const list = await store.outcomes.listTypes(o.scope ? { under: o.scope } : {});
      if (o.json) return ctx.io.stdout(toJson(list.map(typeJson)));
      if (list.length === 0) return ctx.io.stdout(`No outcome types${o.scope ? ` under ${o.scope}` : ''}. Set one with: tollgate outcomes types set --project acme/support/helpdesk --type resolved_ticket --name "Resolved ticket" --unit ticket --baseline 6.00\n`);
      ctx.io.stdout(
        table(
          ['project', 'type', 'name', 'unit', 'human baseline', 'target $/outcome', 'updated'],
          list.map((t) => [t.projectPath, t.type, t.displayName, t.unit, t.baselineNano === null ? '—' : formatUsd(t.baselineNano), t.targetNano === null ? '—' : formatUsd(t.targetNano), isoOrDash(t.updatedAt)]),
          ['left', 'left', 'left', 'left', 'right', 'right', 'left'],
        ),
      );
    });
  // Three levels deep: main() only reaches two, so these get the CLI's exit handling and streams here.
  for (const c of types.commands) c.exitOverride().configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr });

  const importCmd = program.commands.find((c) => c.name() === 'import') ?? program.command('import').description('bring records from elsewhere into the ledger');
  importCmd
    .command('outcomes <file>')
    .description('import outcomes from CSV (with a header) or JSONL: type, count, occurred_at, trace_id, value_usd, idempotency_key. Every row is checked first; one bad row and nothing is imported. Keys already recorded are ignored and counted')
    .option('--scope <agent>', 'the agent the outcomes belong to (rows may name their own in a "scope" column/field)')
    .option('--format <format>', 'csv or jsonl (default: from the file extension)')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { scope?: string; format?: string; json?: boolean }) => {
      const store = await ctx.store();
      const format = o.format ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : ['.jsonl', '.ndjson'].includes(extname(file).toLowerCase()) ? 'jsonl' : null);
      if (format !== 'csv' && format !== 'jsonl') throw new TollgateError('invalid_request', `cannot tell the format of ${basename(file)}: name it .csv or .jsonl, or give --format csv|jsonl`);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new TollgateError('not_found', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const rows = format === 'csv' ? csvRecords(text) : jsonlRecords(text);
      const { outcomes, errors } = await checkRows(store, rows, o.scope, ctx.now());
      if (errors.length > 0) {
        for (const e of errors.slice(0, MAX_ROW_ERRORS)) ctx.io.stderr(`${e}\n`);
        if (errors.length > MAX_ROW_ERRORS) ctx.io.stderr(`… and ${errors.length - MAX_ROW_ERRORS} more\n`);
        throw new TollgateError('invalid_request', `${errors.length} bad row${errors.length === 1 ? '' : 's'} in ${basename(file)}: nothing was imported (fix ${errors.length === 1 ? 'it' : 'them'} and run the import again; rows already imported are skipped by their keys)`);
      }
      if (outcomes.length === 0) throw new TollgateError('invalid_request', `${basename(file)} has no outcome rows`);
      const res = await store.outcomes.record(outcomes);
      if (o.json) return ctx.io.stdout(toJson({ file, rows: outcomes.length, inserted: res.inserted, duplicates: res.duplicates }));
      const dups = res.duplicates.length;
      ctx.io.stdout(
        `Imported ${res.inserted.toLocaleString('en')} outcome${res.inserted === 1 ? '' : 's'} from ${basename(file)} (${outcomes.length.toLocaleString('en')} rows).` +
          (dups > 0 ? ` ${dups.toLocaleString('en')} duplicate${dups === 1 ? '' : 's'} ignored (key already recorded): ${res.duplicates.slice(0, 5).join(', ')}${dups > 5 ? ', …' : ''}.` : '') +
          '\n',
      );
    });
}

function usdOption(text: string, what: string): bigint {
  try {
    return usdToNano(text);
  } catch (err) {
    throw new TollgateError('invalid_request', `--${what} "${text}": ${(err as Error).message}`);
  }
}

function typeJson(t: OutcomeType): Record<string, unknown> {
  return {
    project: t.projectPath,
    type: t.type,
    name: t.displayName,
    unit: t.unit,
    baseline_usd: t.baselineNano === null ? null : nanoToDecimalString(t.baselineNano),
    target_usd: t.targetNano === null ? null : nanoToDecimalString(t.targetNano),
    created_at: new Date(t.createdAt).toISOString(),
    updated_at: new Date(t.updatedAt).toISOString(),
  };
}

interface RawRow {
  line: number;
  fields: unknown;
  /** Set when the row could not even be read. */
  error?: string;
}

/**
 * Checks every row (fields, scope, type configured for the agent's project) before anything is
 * written, so a file imports whole or not at all.
 */
async function checkRows(store: Store, rows: RawRow[], defaultScope: string | undefined, now: number): Promise<{ outcomes: OutcomeInput[]; errors: string[] }> {
  const errors: string[] = [];
  const outcomes: OutcomeInput[] = [];
  const chains = new Map<string, Promise<ScopeChain>>();
  const chainOf = (path: string) => {
    let c = chains.get(path);
    if (!c) {
      c = agentChain(store, path);
      chains.set(path, c);
      c.catch(() => undefined);
    }
    return c;
  };
  const known = new Set((await store.outcomes.listTypes()).map((t) => `${t.projectId}\u0000${t.type}`));
  for (const row of rows) {
    if (row.error) {
      errors.push(`line ${row.line}: ${row.error}`);
      continue;
    }
    try {
      const outcome = parseOutcome(row.fields, now, ['scope']);
      const own = (row.fields as Record<string, unknown>)['scope'];
      const scope = typeof own === 'string' && own.trim() !== '' ? own : defaultScope;
      if (scope === undefined) throw new TollgateError('invalid_request', 'no agent: give --scope org/team/project/agent or a "scope" column');
      const chain = await chainOf(scope.trim());
      if (!known.has(`${chain.projectId}\u0000${outcome.type}`)) {
        const project = `${chain.orgName}/${chain.teamName}/${chain.projectName}`;
        throw new TollgateError('invalid_request', `type "${outcome.type}" is not configured for project ${project} (tollgate outcomes types set --project ${project} --type ${outcome.type} …)`);
      }
      outcomes.push({ ...outcome, chain, keyId: null });
    } catch (err) {
      if (!(err instanceof TollgateError)) throw err;
      errors.push(`line ${row.line}: ${err.message}`);
    }
  }
  return { outcomes, errors };
}

async function agentChain(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: false, actor: 'import' });
  const [org, team, project, agent] = nodes;
  if (!org || !team || !project || !agent) throw new TollgateError('invalid_request', `outcomes belong to an agent (org/team/project/agent); "${path}" is not one`);
  return { orgId: org.id, orgName: org.slug, teamId: team.id, teamName: team.slug, projectId: project.id, projectName: project.slug, agentId: agent.id, agentName: agent.slug };
}

function jsonlRecords(text: string): RawRow[] {
  const rows: RawRow[] = [];
  for (const [i, raw] of text.replace(/^\uFEFF/, '').split(/\r?\n/).entries()) {
    if (raw.trim() === '') continue;
    try {
      rows.push({ line: i + 1, fields: JSON.parse(raw) as unknown });
    } catch (err) {
      rows.push({ line: i + 1, fields: null, error: `not valid JSON: ${(err as Error).message}` });
    }
  }
  return rows;
}

const CSV_COLUMNS: readonly string[] = [...OUTCOME_FIELDS, 'scope'];

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks), keyed by the header; `line` is where each record starts. */
function csvRecords(text: string): RawRow[] {
  const records = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = records.shift();
  if (!header) throw new TollgateError('invalid_request', 'the CSV file is empty: its first line names the columns (type,count,occurred_at,trace_id,value_usd,idempotency_key)');
  const names = header.cells.map((h) => h.trim().toLowerCase());
  for (const n of names) {
    if (!CSV_COLUMNS.includes(n)) throw new TollgateError('invalid_request', `line ${header.line}: unknown column "${n}" (columns: ${CSV_COLUMNS.join(', ')})`);
  }
  return records
    .filter((r) => !(r.cells.length === 1 && r.cells[0]!.trim() === ''))
    .map((r) => {
      if (r.error) return { line: r.line, fields: null, error: r.error };
      if (r.cells.length !== names.length) return { line: r.line, fields: null, error: `${r.cells.length} cells, the header has ${names.length}` };
      return { line: r.line, fields: Object.fromEntries(names.map((n, i) => [n, r.cells[i]!])) };
    });
}

function parseCsv(text: string): { line: number; cells: string[]; error?: string }[] {
  const out: { line: number; cells: string[]; error?: string }[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const cells: string[] = [];
    let error: string | undefined;
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) {
            error = 'a quoted cell is never closed';
            break;
          }
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          cell += ch;
          i++;
        }
        // Anything between the closing quote and the next separator is malformed.
        if (!error && i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') error = 'text after a closing quote';
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      }
      cells.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    out.push(error ? { line: start, cells, error } : { line: start, cells });
  }
  return out;
}
