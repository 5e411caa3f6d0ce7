/**
 * The CLI as a user drives it: in-process through `run()` for most cases (fast), and as real
 * processes for the bin entry and `npm start`'s entry, on real SQLite files.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/domain/virtual-key.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { run } from '../../src/cli/main.ts';
import { makeEvent } from '../support/events.ts';

const exec = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dbFile: string;
let n = 0;
beforeEach(() => {
  dbFile = join(root, `t${n++}.db`);
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, { TOLLGATE_DB: dbFile, USER: 'tester' });
  return { code, out, err };
}

async function json<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as T;
}

interface CreatedKeyJson {
  key: string;
  id: string;
  display: string;
  scopePath: string;
  state: string;
  expiresAt: number | null;
  createdScopes: string[];
}

describe('tollgate keys', () => {
  it('creates a key with its missing tiers, shows the secret once and stores only its hash', async () => {
    const r = await cli('keys', 'create', '--scope', 'acme/support/helpdesk/triage-bot', '--name', 'prod');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Created 4 missing tiers: acme, acme/support, acme/support/helpdesk, acme/support/helpdesk/triage-bot');
    const secret = /^ {4}(tg-[A-Za-z0-9_-]{43})$/m.exec(r.out)?.[1];
    expect(secret).toBeDefined();
    expect(r.out).toContain('only time the key is shown');

    const store = await openSqliteStore(dbFile);
    try {
      const found = await store.directory.findKeyByHash(hashKey(secret!));
      expect(found).toMatchObject({ scopePath: 'acme/support/helpdesk/triage-bot', name: 'prod', state: 'active' });
      expect(found?.chain?.agentName).toBe('triage-bot');
    } finally {
      await store.close();
    }
    // The secret is nowhere on disk: not in the database file nor its WAL.
    for (const f of readdirSync(root).filter((f) => f.startsWith(dbFile.split('/').pop()!))) {
      expect(readFileSync(join(root, f)).includes(Buffer.from(secret!))).toBe(false);
    }
    const listed = await json<{ display: string }[]>('keys', 'list');
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(listed[0]?.display).toBe(`${secret!.slice(0, 9)}…${secret!.slice(-4)}`);

    const again = await cli('keys', 'create', '--scope', 'acme/support/helpdesk/triage-bot');
    expect(again.code).toBe(0);
    expect(again.out).not.toContain('Created');
  });

  it('refuses to create tiers with --no-create, and refuses non-agent scopes without creating anything', async () => {
    const r = await cli('keys', 'create', '--scope', 'acme/support/helpdesk/bot', '--no-create');
    expect(r.code).toBe(1);
    expect(r.err).toContain('scope "acme" does not exist');

    const shallow = await cli('keys', 'create', '--scope', 'acme/support');
    expect(shallow.code).toBe(1);
    expect(shallow.err).toContain('"acme/support" is a team');
    expect(shallow.err).toContain('acme/support/<project>/<agent>');
    expect(await json<unknown[]>('scopes', 'list')).toEqual([]);

    const bad = await cli('keys', 'create', '--scope', 'Acme/Support/x/y');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/invalid scope segment "Acme"/);
  });

  it('handles expiry as a duration or a date, and rejects nonsense', async () => {
    const before = Date.now();
    const k = await json<CreatedKeyJson>('keys', 'create', '--scope', 'a/b/c/d', '--expires', '30d');
    expect(k.expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    expect(k.expiresAt).toBeLessThan(Date.now() + 30 * 86_400_000 + 1);
    const dated = await json<CreatedKeyJson>('keys', 'create', '--scope', 'a/b/c/d', '--expires', '2099-12-31');
    expect(dated.expiresAt).toBe(Date.UTC(2099, 11, 31));
    const past = await cli('keys', 'create', '--scope', 'a/b/c/d', '--expires', '2001-01-01');
    expect(past.code).toBe(1);
    expect(past.err).toContain('in the past');
    const junk = await cli('keys', 'create', '--scope', 'a/b/c/d', '--expires', 'soon');
    expect(junk.code).toBe(1);
    expect(junk.err).toContain('use a duration like 30d');
  });

  it('suspends, resumes and revokes by display prefix or id; revoked keys leave the default list', async () => {
    const k = await json<CreatedKeyJson>('keys', 'create', '--scope', 'a/b/c/d');
    const prefix = k.display.slice(0, 9);
    expect((await cli('keys', 'suspend', prefix)).out).toContain('is now suspended');
    expect((await json<{ state: string }[]>('keys', 'list'))[0]?.state).toBe('suspended');
    expect((await cli('keys', 'resume', k.id)).out).toContain('is now active');
    expect((await cli('keys', 'revoke', k.id)).out).toContain('is now revoked');
    expect(await json<unknown[]>('keys', 'list')).toEqual([]);
    expect((await json<{ state: string }[]>('keys', 'list', '--all'))[0]?.state).toBe('revoked');
    const again = await cli('keys', 'resume', k.id);
    expect(again.code).toBe(1);
    expect(again.err).toContain('revocation is final');
    const audit = await json<{ action: string }[]>('audit', '--target', k.id);
    expect(audit.map((a) => a.action)).toEqual(['key.revoke', 'key.activate', 'key.suspend', 'key.create']);
  });

  it('answers usage mistakes with exit code 2 and JSON errors in JSON mode', async () => {
    expect((await cli('keys', 'bogus')).code).toBe(2);
    expect((await cli('keys', 'create')).code).toBe(2);
    const r = await cli('keys', 'revoke', 'key_nope', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ error: { code: 'not_found', message: expect.stringContaining('no key matches') as unknown } });
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('keys');
  });
});

describe('tollgate scopes', () => {
  it('prints the tree, renames with history kept, archives a subtree', async () => {
    await cli('keys', 'create', '--scope', 'acme/support/helpdesk/triage-bot');
    await cli('scopes', 'create', 'acme/eng/ci');
    const tree = (await cli('scopes', 'list')).out;
    expect(tree).toContain('acme');
    expect(tree).toMatch(/├─ eng\s+team/);
    expect(tree).toMatch(/└─ triage-bot\s+agent/);

    expect((await cli('scopes', 'rename', 'acme/support', '--slug', 'care', '--name', 'Customer care')).out).toContain('acme/support → acme/care');
    expect((await cli('keys', 'list')).out).toContain('acme/care/helpdesk/triage-bot');

    expect((await cli('scopes', 'archive', 'acme/care')).out).toContain('Archived acme/care (3 scopes)');
    const refused = await cli('keys', 'create', '--scope', 'acme/care/helpdesk/triage-bot');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('archived');
    expect((await cli('scopes', 'list', '--all')).out).toContain('(archived)');
  });
});

describe('tollgate price', () => {
  it('prices exactly, applies configured discounts, and flags unknown models', async () => {
    // claude-sonnet-4-5: $3/MTok input, $15/MTok output → 1000×3000 + 200×15000 nano = 6,000,000 nano.
    const q = await json<{ listNano: string; effectiveNano: string; source: string; listUsd: string }>(
      'price', '--provider', 'anthropic', '--model', 'claude-sonnet-4-5', '--input', '1000', '--output', '200', '--at', '2026-10-01',
    );
    expect(q).toMatchObject({ listNano: '6000000', effectiveNano: '6000000', source: 'catalog', listUsd: '0.006000000' });

    const cfg = join(root, 'discount.yaml');
    writeFileSync(cfg, 'pricing:\n  discounts:\n    - { provider: anthropic, percent: 20, from: 2026-01-01 }\n');
    const d = await json<{ listNano: string; effectiveNano: string; discountBp: number }>(
      '--config', cfg, 'price', '--provider', 'anthropic', '--model', 'claude-sonnet-4-5', '--input', '1000', '--output', '200', '--at', '2026-10-01',
    );
    expect(d).toMatchObject({ listNano: '6000000', effectiveNano: '4800000', discountBp: 2000 });

    const unknown = await cli('price', '--provider', 'vllm', '--model', 'my-finetune', '--input', '10');
    expect(unknown.code).toBe(0);
    expect(unknown.out).toContain('UNPRICED');

    const badCfg = join(root, 'bad.yaml');
    writeFileSync(badCfg, 'pricing:\n  discounts:\n    - { provider: anthropic, percent: 120, from: 2026-01-01 }\n');
    const bad = await cli('--config', badCfg, 'price', '--provider', 'anthropic', '--model', 'claude-sonnet-4-5');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('invalid config');
    expect(bad.err).toContain('percent');
  });
});

describe('tollgate demo and spend', () => {
  it('seeds once, and spend totals equal the ledger rows behind them', async () => {
    const first = await json<{ seeded: { inserted: number; total: number }; key: string }>('demo', '--days', '3');
    expect(first.seeded.inserted).toBeGreaterThan(500);
    expect(first.key).toMatch(/^tg-/);
    const second = await json<{ seeded: { inserted: number; total: number } }>('demo', '--days', '3');
    expect(second.seeded.inserted).toBe(0);
    // Each demo run replaces its key: one active demo key at a time.
    expect((await json<{ name: string }[]>('keys', 'list')).filter((k) => k.name === 'demo').length).toBe(1);

    const month = new Date().toISOString().slice(0, 7);
    const spend = await json<{ rows: { name: string; effectiveCostNano: string; calls: number }[] }>('spend', '--month', month, '--by', 'agent');
    const store = await openSqliteStore(dbFile);
    try {
      const from = Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1, 1);
      const to = Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1);
      const raw = await store.ledger.totals({ from, to });
      expect(spend.rows.reduce((s, r) => s + BigInt(r.effectiveCostNano), 0n)).toBe(raw.effectiveCostNano);
      expect(spend.rows.reduce((s, r) => s + r.calls, 0)).toBe(raw.calls);
    } finally {
      await store.close();
    }
    expect((await cli('spend', '--month', '2026-13')).err).toContain('use YYYY-MM');
    expect((await cli('spend', '--scope', 'nope')).err).toContain('does not exist');
  });
});

describe('unpriced calls', () => {
  it('are never a silent $0: spend counts them and says what to do', async () => {
    const store = await openSqliteStore(dbFile);
    try {
      const { nodes } = await store.directory.ensureScope('acme/ml/rag/retriever', { create: true, actor: 'test' });
      const [org, team, project, agent] = nodes;
      const chain = { orgId: org!.id, orgName: 'acme', teamId: team!.id, teamName: 'ml', projectId: project!.id, projectName: 'rag', agentId: agent!.id, agentName: 'retriever' };
      await store.ledger.record([
        makeEvent(chain, { startedAt: Date.UTC(2026, 9, 3), provider: 'vllm', servedModel: 'my-finetune', listCostNano: 0n, effectiveCostNano: 0n, priceSource: 'unpriced' }),
        makeEvent(chain, { startedAt: Date.UTC(2026, 9, 4), listCostNano: 1_500_000n, effectiveCostNano: 1_500_000n }),
      ]);
    } finally {
      await store.close();
    }
    const r = await cli('spend', '--month', '2026-10', '--by', 'model');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/my-finetune\s+1\s/);
    expect(r.out).toContain('1 call(s) to models with no price');
    expect(r.out).toContain('pricing.custom_models');
    const j = await json<{ rows: { name: string; unpricedCalls: number }[] }>('spend', '--month', '2026-10', '--by', 'model');
    expect(j.rows.find((x) => x.name === 'my-finetune')?.unpricedCalls).toBe(1);
  });
});

describe('entry points', () => {
  const env = () => ({ ...process.env, TOLLGATE_DB: dbFile });

  it('bin/tollgate.js runs as a real process', async () => {
    const { stdout } = await exec(process.execPath, ['bin/tollgate.js', 'keys', 'create', '--scope', 'x/y/z/w', '--json'], { env: env() });
    expect((JSON.parse(stdout) as CreatedKeyJson).key).toMatch(/^tg-[A-Za-z0-9_-]{43}$/);
    const failed = await exec(process.execPath, ['bin/tollgate.js', 'keys', 'revoke', 'key_missing'], { env: env() }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('no key matches') as unknown });
  });

  it("npm start's entry (tsx src/cli/main.ts) runs the CLI", async () => {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'scopes', 'list'], { env: env() });
    expect(stdout).toContain('No scopes yet');
  });
});
