import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `report unit-economics`, `report board`. */
export function registerOutcomeReports(_report: Command, _ctx: CliContext): void {}
