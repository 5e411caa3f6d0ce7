import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerChargebackReports } from './report-chargeback.ts';
import { registerOutcomeReports } from './report-outcomes.ts';
import { registerShowback } from './report-showback.ts';

/** `tollgate report …`: showback, chargeback, unit economics, board. */
export function registerReport(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('reports a finance lead can read: showback, chargeback, unit economics, board summary');
  registerChargebackReports(report, ctx);
  registerOutcomeReports(report, ctx);
  registerShowback(report, ctx);
}
