import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { focusCsv, parseFocusDay } from '../../analytics/focus.ts';
import { TollgateError } from '../../domain/errors.ts';
import type { CliContext } from '../context.ts';
import { processIo } from '../output.ts';

/** `tollgate export focus`. */
export function registerExport(program: Command, ctx: CliContext): void {
  const exp = program.command('export').description('exports for other tools: FOCUS 1.2 CSV for FinOps platforms and warehouses');

  exp
    .command('focus')
    .description('FOCUS 1.2 CSV: one row per UTC day × agent × model × token type, from the daily rollups (whole UTC days)')
    .requiredOption('--from <date>', 'first UTC day, e.g. 2026-10-01')
    .requiredOption('--to <date>', 'UTC day after the last, e.g. 2026-11-01 (exclusive)')
    .option('--scope <path>', 'only this subtree, e.g. acme or acme/support')
    .option('--out <file>', 'write to this file (default: standard output)')
    .action(async (o: { from: string; to: string; scope?: string; out?: string }) => {
      const from = parseFocusDay(o.from, '--from');
      const to = parseFocusDay(o.to, '--to');
      const store = await ctx.store();
      const chunks = focusCsv(store, ctx.pricer(), { from, to, ...(o.scope ? { scope: o.scope } : {}) });
      if (!o.out) {
        const pipe = ctx.io === processIo ? stdoutPipe() : { closed: false };
        for await (const chunk of chunks) {
          // The reader went away (`| head`): stop reading the ledger rather than crash on EPIPE.
          if (pipe.closed) break;
          ctx.io.stdout(chunk);
        }
        return;
      }
      // The header comes after the first page is read: a bad query fails here, before any file exists.
      const head = await chunks.next();
      // Written beside the target and renamed at the end: a failed export never leaves half a file under its name.
      const partial = `${o.out}.partial`;
      const file = createWriteStream(partial, { flags: 'w' });
      const failed = new Promise<never>((_, reject) => file.once('error', reject));
      failed.catch(() => undefined);
      let rows = -1;
      let bytes = 0;
      const write = async (chunk: string) => {
        rows += countLines(chunk);
        bytes += Buffer.byteLength(chunk);
        if (!file.write(chunk)) await Promise.race([once(file, 'drain'), failed]);
      };
      try {
        if (!head.done) await write(head.value);
        for await (const chunk of chunks) await write(chunk);
        file.end();
        await Promise.race([once(file, 'finish'), failed]);
        await rename(partial, o.out);
      } catch (err) {
        if (!file.closed) {
          const closed = once(file, 'close').catch(() => undefined);
          file.destroy();
          await closed;
        }
        await rm(partial, { force: true });
        if (err instanceof TollgateError) throw err;
        throw new TollgateError('unavailable', `cannot write ${o.out}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      ctx.io.stdout(`Wrote ${rows.toLocaleString('en')} FOCUS rows (${bytes.toLocaleString('en')} bytes) to ${o.out}.\n`);
    });
}

function countLines(chunk: string): number {
  let n = 0;
  for (let i = chunk.indexOf('\r\n'); i !== -1; i = chunk.indexOf('\r\n', i + 2)) n++;
  return n;
}

let pipeState: { closed: boolean } | undefined;

/** Watches the process's stdout for EPIPE (reader gone), once per process; other errors stay fatal. */
function stdoutPipe(): { closed: boolean } {
  if (!pipeState) {
    const state = { closed: false };
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      state.closed = true;
    });
    pipeState = state;
  }
  return pipeState;
}
