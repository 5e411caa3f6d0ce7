/** The CLI in-process against one database, output captured: what CLI tests call. */
import { expect } from 'vitest';
import { run } from '../../src/cli/main.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `cli` runs a command and returns its exit code and output; `ok` also expects success and silence on stderr. */
export function cliRunner(dbFile: () => string): { cli: (...args: string[]) => Promise<CliResult>; ok: (...args: string[]) => Promise<string> } {
  const cli = async (...args: string[]): Promise<CliResult> => {
    let out = '';
    let err = '';
    const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, { TOLLGATE_DB: dbFile(), USER: 'tester' });
    return { code, out, err };
  };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await cli(...args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return r.out;
  };
  return { cli, ok };
}
