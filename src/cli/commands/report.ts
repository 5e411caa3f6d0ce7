import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerChargebackReports } from './report-chargeback.ts';
import { registerOutcomeReports } from './report-outcomes.ts';
import { registerRoutingReport } from './report-routing.ts';
import { registerShowback } from './report-showback.ts';

/** `tollgate report …`: showback, chargeback, unit economics, board, routing. */
export function registerReport(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('reports a finance lead can read: showback, chargeback, unit economics, board summary, routing savings');
  registerChargebackReports(report, ctx);
  registerOutcomeReports(report, ctx);
  registerShowback(report, ctx);
  registerRoutingReport(report, ctx);
}
