/**
 * The `tollgate` command. `run()` is the whole CLI as a function (tests call it in-process);
 * running this file executes it against the real process.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { toTollgateError } from '../domain/errors.ts';
import { registerAnomalies } from './commands/anomalies.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBreakeven } from './commands/breakeven.ts';
import { registerBudgets } from './commands/budgets.ts';
import { registerControls } from './commands/controls.ts';
import { registerExport } from './commands/export.ts';
import { registerForecast } from './commands/forecast.ts';
import { registerOutcomes } from './commands/outcomes.ts';
import { registerReport } from './commands/report.ts';
import { registerDemo } from './commands/demo.ts';
import { registerKeys } from './commands/keys.ts';
import { registerPrice } from './commands/price.ts';
import { registerPriceChanges } from './commands/price-changes.ts';
import { registerReconcile } from './commands/reconcile.ts';
import { registerReprice } from './commands/reprice.ts';
import { registerServe } from './commands/serve.ts';
import { registerScopes } from './commands/scopes.ts';
import { registerSpend } from './commands/spend.ts';
import { registerSecrets } from './commands/secrets.ts';
import { CliContext } from './context.ts';
import type { Io } from './output.ts';
import { processIo, toJson } from './output.ts';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tollgate')
    .description('Tollgate: AI FinOps gateway and exact spend ledger')
    .option('--db <target>', 'SQLite file or postgres:// URL (default: $TOLLGATE_DB, the config\'s database, or ./tollgate-data/tollgate.db)')
    .option('--config <file>', 'config file (default: $TOLLGATE_CONFIG or ./tollgate.yaml if present)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr });
  program.hook('preAction', (cmd) => {
    ctx.setGlobals(cmd.optsWithGlobals<{ db?: string; config?: string }>());
  });
  registerKeys(program, ctx);
  registerScopes(program, ctx);
  registerSpend(program, ctx);
  registerBudgets(program, ctx);
  registerControls(program, ctx);
  registerAnomalies(program, ctx);
  registerOutcomes(program, ctx);
  registerReport(program, ctx);
  registerExport(program, ctx);
  registerForecast(program, ctx);
  registerPrice(program, ctx);
  registerReprice(program, ctx);
  registerPriceChanges(program, ctx);
  registerReconcile(program, ctx);
  registerBreakeven(program, ctx);
  registerAudit(program, ctx);
  registerDemo(program, ctx);
  registerServe(program, ctx);
  registerSecrets(program, ctx);
  for (const c of program.commands) {
    c.exitOverride().configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr });
    for (const sub of c.commands) sub.exitOverride().configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr });
  }
  return program;
}

/** Runs the CLI; resolves to the exit code (0 ok, 1 failed, 2 usage error). */
export async function run(argv: readonly string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ctx = new CliContext(io, env);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit "successfully"; commander has already printed usage errors.
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? 0 : 2;
    }
    const e = toTollgateError(err);
    // A command that already printed its JSON answer (and fails after, e.g. on dead-lettered alerts) keeps stdout one document.
    if (argv.includes('--json') && e.details?.['printed'] !== true) io.stdout(toJson({ error: { code: e.code, message: e.message } }));
    io.stderr(`error: ${e.message}\n`);
    if (e.code === 'internal' && env['TOLLGATE_DEBUG'] && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
    return 1;
  } finally {
    await ctx.close();
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await run(process.argv.slice(2));
}
