import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `tollgate export focus`. */
export function registerExport(_program: Command, _ctx: CliContext): void {}
