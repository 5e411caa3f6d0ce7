import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `tollgate outcomes types …` and `tollgate import outcomes`. */
export function registerOutcomes(_program: Command, _ctx: CliContext): void {}
