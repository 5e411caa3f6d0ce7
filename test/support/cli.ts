/** The CLI in-process against one database, output captured: what CLI tests call. */
import { expect } from 'vitest';
import { run } from '../../src/cli/main.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface CliRunner {
  /** Runs a command; its exit code and output. */
  cli: (...args: string[]) => Promise<CliResult>;
  /** Runs a command that must succeed with nothing on stderr; its stdout. */
  ok: (...args: string[]) => Promise<string>;
  /** `ok` with `--json`, parsed. */
  json: <T>(...args: string[]) => Promise<T>;
  /** A refusal: exit code 1, one line on stderr, nothing on stdout; the stderr. */
  refused: (...args: string[]) => Promise<string>;
  /** Opens the command's SQLite store for `f`, then closes it. */
  withStore: <T>(f: (s: Store) => Promise<T>) => Promise<T>;
}

export function cliRunner(dbFile: () => string): CliRunner {
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
  const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await ok(...args, '--json')) as T;
  const refused = async (...args: string[]): Promise<string> => {
    const r = await cli(...args);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: [^\n]+\n$/);
    return r.err;
  };
  const withStore = async <T>(f: (s: Store) => Promise<T>): Promise<T> => {
    const store = await openSqliteStore(dbFile());
    try {
      return await f(store);
    } finally {
      await store.close();
    }
  };
  return { cli, ok, json, refused, withStore };
}
