import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `report showback`, `report chargeback`, and `chargeback …` administration. */
export function registerChargebackReports(_report: Command, _ctx: CliContext): void {}
