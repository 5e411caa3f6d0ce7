/**
 * `tollgate keys create-viewer` as a user drives it, in-process on a real SQLite file: a read-only
 * key on any tier, shown once, stored as a hash, listed with its kind, refused where no scope is.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/domain/virtual-key.ts';
import { cliRunner } from '../support/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-keys-viewer-'));
const dbFile = join(root, 'ledger.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const { cli, ok, json, refused, withStore } = cliRunner(() => dbFile);

interface KeyRow {
  key?: string;
  id: string;
  display: string;
  kind: string;
  scopePath: string;
  name: string;
  state: string;
  expiresAt: number | null;
}

beforeAll(async () => {
  await ok('keys', 'create', '--scope', 'acme/support/helpdesk/triage-bot');
});

describe('tollgate keys create-viewer', () => {
  it('issues a tgv- key for a team, shows it once and stores only its hash', async () => {
    const out = await ok('keys', 'create-viewer', '--scope', 'acme/support', '--name', 'support leads');
    const secret = /^ {4}(tgv-[A-Za-z0-9_-]{43})$/m.exec(out)?.[1];
    expect(secret).toBeDefined();
    expect(out).toMatch(/^Viewer key for acme\/support \(name "support leads", id key_[0-9a-f]{16}\):\n/);
    expect(out).toContain('reads the /api/ reports of acme/support and below; it changes nothing and makes no model calls');
    expect(out).toContain('only time the key is shown');

    const found = await withStore((s) => s.directory.findKeyByHash(hashKey(secret!)));
    expect(found).toMatchObject({ kind: 'viewer', scopePath: 'acme/support', name: 'support leads', state: 'active', chain: null });
    for (const f of readdirSync(root).filter((f) => f.startsWith('ledger.db'))) expect(readFileSync(join(root, f)).includes(Buffer.from(secret!))).toBe(false);

    const listed = await json<KeyRow[]>('keys', 'list');
    expect(JSON.stringify(listed)).not.toContain(secret!.slice(4));
    expect(listed.find((k) => k.scopePath === 'acme/support')).toMatchObject({ kind: 'viewer', display: `${secret!.slice(0, 10)}…${secret!.slice(-4)}` });
    expect(listed.find((k) => k.scopePath === 'acme/support/helpdesk/triage-bot')?.kind).toBe('agent');
    const audit = await json<{ action: string; after: unknown }[]>('audit');
    expect(audit[0]).toMatchObject({ action: 'key.create', after: { kind: 'viewer', scope: 'acme/support' } });
    expect(JSON.stringify(audit)).not.toContain(secret!.slice(4));
  });

  it('shows the kind in the keys table', async () => {
    const table = await ok('keys', 'list');
    const [head, , ...rows] = table.trimEnd().split('\n');
    expect(head).toMatch(/^id\s+key\s+kind\s+scope\s+name\s+state\s+created\s+expires$/);
    expect(rows.find((r) => r.includes(' acme/support '))).toMatch(/ viewer +acme\/support +support leads +active /);
    expect(rows.find((r) => r.includes('triage-bot'))).toMatch(/ agent +acme\/support\/helpdesk\/triage-bot /);
  });

  it('sits on any tier, org to agent, with an expiry, as JSON', async () => {
    for (const scope of ['acme', 'acme/support/helpdesk', 'acme/support/helpdesk/triage-bot']) {
      const k = await json<KeyRow>('keys', 'create-viewer', '--scope', scope, '--expires', '2099-12-31');
      expect(k.key).toMatch(/^tgv-/);
      expect(k).toMatchObject({ kind: 'viewer', scopePath: scope, name: 'default', state: 'active', expiresAt: Date.UTC(2099, 11, 31) });
    }
  });

  it('is refused where the scope does not exist, and creates nothing', async () => {
    const before = await json<unknown[]>('scopes', 'list');
    expect(await refused('keys', 'create-viewer', '--scope', 'acme/suport')).toBe('error: scope "acme/suport" does not exist: a viewer key reads an existing org, team, project or agent (see `tollgate scopes list`)\n');
    expect(await refused('keys', 'create-viewer', '--scope', 'globex')).toContain('scope "globex" does not exist');
    expect(await refused('keys', 'create-viewer', '--scope', 'Acme')).toContain('invalid scope segment "Acme"');
    expect(await refused('keys', 'create-viewer', '--scope', 'acme', '--expires', 'soon')).toContain('cannot read expiry "soon"');
    expect(await json<unknown[]>('scopes', 'list')).toEqual(before);
    expect((await cli('keys', 'create-viewer')).code).toBe(2);
  });

  it('is suspended and revoked like any key, by id or tgv- prefix', async () => {
    const k = await json<KeyRow>('keys', 'create-viewer', '--scope', 'acme/support', '--name', 'temp');
    expect(await ok('keys', 'suspend', k.display.slice(0, 10))).toBe(`Key ${k.id} (${k.display}, acme/support) is now suspended.\n`);
    expect((await json<KeyRow>('keys', 'revoke', k.id)).state).toBe('revoked');
    expect((await json<KeyRow[]>('keys', 'list')).map((x) => x.id)).not.toContain(k.id);
  });

  it('points `keys create` on a team at the viewer key', async () => {
    expect(await refused('keys', 'create', '--scope', 'acme/support')).toContain('to read a whole subtree\'s reports instead, issue a viewer key');
  });
});
