/**
 * No viewer or agent key reads or changes anything outside its scope, through any /api/ route.
 * The routes are enumerated from the running gateway (each declares its access), so a route added
 * later is covered without touching this file. Team "zeta" holds the secrets; the viewer reads
 * acme/support only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { generateKeySecret, newKeyId } from '../../src/domain/virtual-key.ts';
import type { ApiRoute } from '../../src/gateway/access.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, startHarness } from '../support/gateway.ts';
import { makeFinding } from '../support/findings.ts';

const SECRET_TEAM = 'acme/zeta';
const SECRET_AGENT = `${SECRET_TEAM}/vault/zeta-bot`;
const MARK = 'zeta';

let h: Harness;
let viewer: string;
let zetaAgentKey: string;
const ids: Record<string, string> = {};

async function call(secret: string): Promise<string> {
  const res = await fetch(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hello' }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('x-tollgate-request-id')!;
}

beforeAll(async () => {
  h = await startHarness();
  const zeta = await createKey(h.store, { scope: SECRET_AGENT, name: 'zeta', actor: 'test' });
  zetaAgentKey = zeta.secret;
  ids['zetaKey'] = zeta.key.id;
  await h.gateway.keys.reload();
  await call(h.secret);
  ids['zetaCall'] = await call(zetaAgentKey);
  const team = await h.store.directory.getScope('acme/support');
  const v = generateKeySecret('viewer');
  await h.store.directory.insertKey({ id: newKeyId(), hash: v.hash, display: v.display, kind: 'viewer', scopeId: team!.id, name: 'support-viewer', expiresAt: null }, 'test');
  viewer = v.secret;
  const zetaAgent = await h.store.directory.getScope(SECRET_AGENT);
  const { alert } = await h.store.anomalies.open(makeFinding({ id: zetaAgent!.id, path: SECRET_AGENT }));
  ids['zetaAnomaly'] = alert.id;
  await h.store.controls.setBudget({ scopePath: SECRET_TEAM, amountNano: 50_000_000_000n, period: 'month', action: 'showback', thresholds: [80], timeZone: 'UTC', degradeTo: null }, 'test');
  await h.store.controls.kill(SECRET_AGENT, 'zeta incident', 'test');
  await h.gateway.keys.reload();
}, 60_000);

afterAll(async () => {
  await h.close();
});

/** A path with its `:params` filled by the secret team's objects. */
function fill(url: string): string {
  return url.replace(/:(\w+)/g, (_m, name: string) => {
    if (url.startsWith('/api/calls')) return ids['zetaCall']!;
    if (url.startsWith('/api/anomalies')) return ids['zetaAnomaly']!;
    if (url.startsWith('/api/keys')) return ids['zetaKey']!;
    return `x-${name}`;
  });
}

const month = new Date().toISOString().slice(0, 7);
const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
/** Every scope-like parameter pointed at the secret team, with enough else for a report to run. */
const ASK_FOR_SECRET = new URLSearchParams({ scope: SECRET_TEAM, team: SECRET_TEAM, under: SECRET_TEAM, org: 'acme', month, from: day(-30), to: day(1), quarter: `${month.slice(0, 4)}-Q4` }).toString();

async function send(route: ApiRoute, auth: Record<string, string>, query = ''): Promise<{ status: number; text: string }> {
  const url = `${h.url}${fill(route.url)}${query === '' ? '' : `?${query}`}`;
  const write = route.method !== 'GET';
  const res = await fetch(url, {
    method: route.method,
    headers: { ...auth, ...(write ? { 'content-type': 'application/json' } : {}) },
    ...(write ? { body: JSON.stringify({ scope: SECRET_AGENT, reason: 'viewer was here', key: 'nope', amount_usd: '1', period: 'month', team: SECRET_TEAM }) } : {}),
  });
  return { status: res.status, text: await res.text() };
}

describe('access control over every /api/ route', () => {
  it('knows its routes: each declares admin, read or public access', () => {
    const routes = h.gateway.apiRoutes;
    expect(routes.length).toBeGreaterThan(25);
    for (const r of routes) expect(['admin', 'read', 'public']).toContain(r.access);
    // The writes are all admin (or the public sign-in/out).
    for (const r of routes.filter((x) => x.method !== 'GET')) expect(r.access === 'admin' || r.url === '/api/session', `${r.method} ${r.url}`).toBe(true);
  });

  it('refuses every non-public route without credentials and with an agent key', async () => {
    for (const r of h.gateway.apiRoutes.filter((x) => x.access !== 'public')) {
      const anon = await send(r, {});
      expect(anon.status, `anonymous ${r.method} ${r.url}`).toBe(401);
      const agent = await send(r, { authorization: `Bearer ${h.secret}` });
      expect(agent.status, `agent key ${r.method} ${r.url}: ${agent.text}`).toBe(401);
      expect(JSON.parse(agent.text)).toMatchObject({ error: { code: 'unauthenticated' } });
    }
  });

  it('lets a viewer change nothing: every admin route is 403 for it', async () => {
    for (const r of h.gateway.apiRoutes.filter((x) => x.access === 'admin')) {
      const res = await send(r, { authorization: `Bearer ${viewer}` });
      expect(res.status, `${r.method} ${r.url}: ${res.text}`).toBe(403);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'forbidden' } });
    }
    // Nothing changed: the secret team's agent is still killed, its budget still there.
    expect((await h.store.controls.listKills()).map((k) => k.scopePath)).toContain(SECRET_AGENT);
    expect((await h.store.controls.listBudgets({ under: SECRET_TEAM })).length).toBe(1);
  });

  it('shows a viewer nothing of another team on any read route, whatever it asks for', async () => {
    let answered = 0;
    for (const r of h.gateway.apiRoutes.filter((x) => x.access === 'read')) {
      for (const query of ['', ASK_FOR_SECRET]) {
        const res = await send(r, { authorization: `Bearer ${viewer}` }, query);
        const label = `${r.method} ${r.url}?${query} → ${res.status}`;
        expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
        if (res.status === 200) {
          answered++;
          expect(res.text.toLowerCase(), label).not.toContain(MARK);
        } else {
          expect([400, 403, 404], `${label}: ${res.text.slice(0, 300)}`).toContain(res.status);
        }
      }
    }
    // The viewer does read its own team: the test is not passing because everything is refused.
    expect(answered).toBeGreaterThan(5);
  });

  it('shows the admin the secret team on the same routes (the check above can fail)', async () => {
    const kills = await fetch(`${h.url}/api/kills`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(await kills.text()).toContain(MARK);
    const one = await fetch(`${h.url}/api/calls/${ids['zetaCall']}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(one.status).toBe(200);
    const hidden = await fetch(`${h.url}/api/calls/${ids['zetaCall']}`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(hidden.status).toBe(404);
  });
});

describe('dashboard sessions', () => {
  async function signIn(key: string): Promise<{ status: number; cookie: string; csrf: string; json: unknown }> {
    const res = await fetch(`${h.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
    const json = (await res.json()) as { csrfToken?: string };
    const setCookie = res.headers.get('set-cookie') ?? '';
    return { status: res.status, cookie: setCookie.split(';')[0] ?? '', csrf: json.csrfToken ?? '', json };
  }

  it('sets an HttpOnly, SameSite=Strict cookie, and refuses wrong keys', async () => {
    const res = await fetch(`${h.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: ADMIN_KEY }) });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^tollgate_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect((await signIn('not-the-key')).status).toBe(401);
    expect((await signIn(h.secret)).status).toBe(401);
    expect((await signIn('')).status).toBe(400);
  });

  it('a viewer session reads its own team and nothing else', async () => {
    const s = await signIn(viewer);
    expect(s.json).toMatchObject({ principal: { kind: 'viewer', scope: { path: 'acme/support', tier: 'team' } } });
    const who = (await (await fetch(`${h.url}/api/session`, { headers: { cookie: s.cookie } })).json()) as { principal: unknown; csrfToken: string };
    expect(who).toEqual({ principal: { kind: 'viewer', scope: expect.objectContaining({ path: 'acme/support' }) as unknown, display: expect.any(String) as unknown }, csrfToken: s.csrf });
    expect(await (await fetch(`${h.url}/api/session`)).json()).toEqual({ principal: null, csrfToken: null });
    const mine = await fetch(`${h.url}/api/budgets`, { headers: { cookie: s.cookie } });
    expect(mine.status).toBe(200);
    const theirs = await fetch(`${h.url}/api/budgets?scope=${SECRET_TEAM}`, { headers: { cookie: s.cookie } });
    expect(theirs.status).toBe(403);
    const write = await fetch(`${h.url}/api/kill`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'acme/support' }) });
    expect(write.status).toBe(403);
  });

  it('needs the CSRF token and this origin for writes through a session', async () => {
    const s = await signIn(ADMIN_KEY);
    const kill = (headers: Record<string, string>) =>
      fetch(`${h.url}/api/kill`, { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ scope: 'acme/support/helpdesk/triage-bot', reason: 'csrf test' }) });
    expect((await kill({})).status).toBe(403);
    expect((await kill({ 'x-csrf-token': 'f'.repeat(64) })).status).toBe(403);
    expect((await kill({ 'x-csrf-token': s.csrf, origin: 'https://evil.example' })).status).toBe(403);
    expect((await h.store.controls.listKills()).map((k) => k.scopePath)).not.toContain('acme/support/helpdesk/triage-bot');
    const ok = await kill({ 'x-csrf-token': s.csrf, origin: h.url });
    expect(ok.status).toBe(200);
    const revive = await fetch(`${h.url}/api/revive`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'acme/support/helpdesk/triage-bot' }) });
    expect(revive.status).toBe(200);
    const audit = await h.store.directory.audit({ limit: 5 });
    expect(audit.some((a) => a.actor === 'dashboard:admin' && a.target === 'acme/support/helpdesk/triage-bot')).toBe(true);
  });

  it('refuses a forged or tampered cookie, and ends a session when its viewer key is revoked', async () => {
    const s = await signIn(viewer);
    const [body, sig] = s.cookie.slice('tollgate_session='.length).split('.');
    const forged = Buffer.from(JSON.stringify({ kind: 'admin', fp: '0'.repeat(32), exp: Date.now() + 3_600_000, nonce: 'x' })).toString('base64url');
    for (const cookie of [`tollgate_session=${forged}.${sig}`, `tollgate_session=${body}.${'0'.repeat(64)}`, 'tollgate_session=garbage']) {
      expect((await fetch(`${h.url}/api/budgets`, { headers: { cookie } })).status).toBe(401);
    }
    const [key] = (await h.store.directory.listKeys({ under: 'acme/support' })).filter((k) => k.kind === 'viewer');
    await h.store.directory.setKeyState(key!.id, 'revoked', 'test');
    await h.gateway.keys.reload();
    expect((await fetch(`${h.url}/api/budgets`, { headers: { cookie: s.cookie } })).status).toBe(401);
    const out = await fetch(`${h.url}/api/session`, { method: 'DELETE' });
    expect(out.headers.get('set-cookie')).toMatch(/tollgate_session=;/);
  });
});
