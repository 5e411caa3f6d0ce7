import { afterAll, describe, expect, it } from 'vitest';
import type { ScopeChain } from '../../domain/scope.ts';
import { ModelRouter } from '../model-router.ts';
import { closeUpstreams, createUpstreams } from '../upstreams.ts';
import type { RouteRequest } from './routing-table.ts';
import { RoutingTable } from './routing-table.ts';
import { routingConfigSchema } from './routing-config.ts';

const ups = createUpstreams({ openai: { base_url: 'http://127.0.0.1:1/v1' }, anthropic: { base_url: 'http://127.0.0.1:2', api: 'anthropic' } });
const router = new ModelRouter(ups, { fast: 'openai/gpt-4.1-mini' });
afterAll(() => closeUpstreams(ups));

const THREE = [
  { name: 'budget', model: 'gpt-4.1-nano' },
  { name: 'middle', model: 'fast' },
  { name: 'frontier', model: 'openai/gpt-4.1' },
];

const chain: ScopeChain = { orgId: 'o', orgName: 'acme', teamId: 't', teamName: 'support', projectId: 'p', projectName: 'helpdesk', agentId: 'a', agentName: 'bot' };

function table(config: unknown, aliases: Record<string, string> = {}) {
  return new RoutingTable(routingConfigSchema.parse(config), router, aliases);
}

function req(over: Partial<RouteRequest> = {}): RouteRequest {
  return { api: 'openai', route: 'openai.chat', model: 'auto', body: { messages: [{ role: 'user', content: 'hi' }] }, hint: undefined, chain, degradeTo: null, ...over };
}

describe('RoutingTable', () => {
  it('resolves tiers once (aliases and catalog names alike) and names the frontier', () => {
    const p = table({ auto: { tiers: THREE } }).plan(req());
    expect(p?.tiers.map((t) => `${t.name}=${t.target.upstream.id}/${t.target.model}`)).toEqual(['budget=openai/gpt-4.1-nano', 'middle=openai/gpt-4.1-mini', 'frontier=openai/gpt-4.1']);
    expect(p).toMatchObject({ alias: 'auto', start: 0, ceiling: 2, frontier: 'openai/gpt-4.1', degradedBy: null });
    expect(table({ auto: { tiers: THREE } }).plan(req({ model: 'gpt-4.1' }))).toBeNull();
  });

  it('rules may send a feature to a middle tier; the highest firing tier wins', () => {
    const t = table({ auto: { tiers: THREE, rules: { prompt_chars: { above: 10, tier: 'middle' }, code: true } } });
    expect(t.plan(req({ body: { messages: [{ role: 'user', content: 'a longer question here' }] } }))).toMatchObject({ start: 1, reason: 'prompt 22 chars > 10 → middle' });
    expect(t.plan(req({ body: { messages: [{ role: 'user', content: 'why?\n```js\nlet a = 1\n```' }] } }))?.start).toBe(2);
  });

  it('without rules, the defaults apply: long prompts, deep conversations, code and maths go up', () => {
    const t = table({ auto: { tiers: THREE } });
    expect(t.plan(req())?.start).toBe(0);
    expect(t.plan(req({ body: { messages: [{ role: 'user', content: 'x'.repeat(16_001) }] } }))?.start).toBe(2);
    expect(t.plan(req({ body: { messages: [{ role: 'user', content: 'x'.repeat(16_000) }] } }))?.start).toBe(0);
    expect(t.plan(req({ body: { tools: [{ type: 'function', function: { name: 'f' } }], messages: [] } }))?.start).toBe(0);
  });

  it('precedence: a spent soft budget, then the scope policy, then the hint, then the classifier', () => {
    const t = table({ auto: { tiers: THREE, policies: { 'acme/support': { tier: 'middle' }, 'acme/support/helpdesk/bot': { tier: 'frontier' } } } });
    expect(t.plan(req({ hint: 'budget' }))).toMatchObject({ start: 2, reason: 'policy of acme/support/helpdesk/bot → frontier' });
    expect(t.plan(req({ chain: { ...chain, agentName: 'other' } }))).toMatchObject({ start: 1, reason: 'policy of acme/support → middle' });
    expect(t.plan(req({ degradeTo: 'middle' }))).toMatchObject({ start: 1, ceiling: 1, degradedBy: 'middle' });
    expect(t.plan(req({ degradeTo: 'cheap' }))).toMatchObject({ start: 0, ceiling: 0, reason: 'soft budget spent (degrade_to cheap) → budget, no escalation' });
    const free = table({ auto: { tiers: THREE, degrade_on_soft_cap: false } });
    expect(free.plan(req({ degradeTo: 'cheap', hint: 'Frontier' }))).toMatchObject({ start: 2, ceiling: 2, degradedBy: null, reason: 'hint header → frontier' });
  });

  it('a soft budget degrading to a routed model routes calls that named a model, unless the API cannot serve them', () => {
    const t = table({ auto: { tiers: THREE, degrade_on_soft_cap: false } });
    expect(t.plan(req({ model: 'gpt-4.1', degradeTo: 'auto' }))).toMatchObject({ alias: 'auto', reason: 'soft budget spent (degrade_to auto); no rule fired (prompt 2 chars, 1 message, no tools, no code, no maths)' });
    expect(t.plan(req({ model: 'claude-haiku-4-5', api: 'anthropic', route: 'anthropic.messages', degradeTo: 'auto' }))).toBeNull();
    expect(t.plan(req({ model: 'text-embedding-3-small', route: 'openai.embeddings', degradeTo: 'auto' }))).toBeNull();
  });

  it('refuses a routed model on embeddings or on an API its tiers do not speak', () => {
    const t = table({ auto: { tiers: THREE } });
    expect(() => t.plan(req({ route: 'openai.embeddings' }))).toThrow('"auto" is a routed model for generation on the OpenAI');
    expect(() => t.plan(req({ api: 'anthropic', route: 'anthropic.messages' }))).toThrow('call it there, or name a model directly');
    expect(() => t.plan(req({ hint: 'premium' }))).toThrow('"premium" is not a tier of "auto" (tiers: budget, middle, frontier)');
  });

  it('fails at start-up on tiers that do not resolve on one API, and on a name that is also a models: alias', () => {
    expect(() => table({ auto: { tiers: [{ name: 'budget', model: 'claude-haiku-4-5' }, { name: 'frontier', model: 'gpt-4.1' }] } })).toThrow(
      /^routing\.auto: its tiers \(claude-haiku-4-5, gpt-4\.1\) do not all resolve on one API — openai: unknown model "claude-haiku-4-5"/,
    );
    expect(() => table({ fast: { tiers: THREE } }, { fast: 'openai/gpt-4.1-mini' })).toThrow('routing.fast: "fast" is also a models: alias');
  });
});

describe('routing config', () => {
  const issues = (config: unknown) => routingConfigSchema.safeParse(config).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

  it('names what is wrong and where', () => {
    expect(issues({ auto: { tiers: [{ name: 'budget', model: 'a' }] } })).toEqual(['auto.tiers: a routed model needs at least two tiers: a budget one and a frontier one']);
    expect(issues({ auto: { tiers: [{ name: 'x', model: 'a' }, { name: 'x', model: 'b' }] } })).toEqual(['auto.tiers.1.name: tier name "x" is used twice']);
    expect(issues({ auto: { tiers: THREE, rules: { code: 'premium', messages: { above: 3, tier: 'gold' } }, policies: { 'acme/x': { tier: 'nope' } } } })).toEqual([
      'auto.rules.messages: no tier named "gold" (tiers: budget, middle, frontier)',
      'auto.rules.code: no tier named "premium" (tiers: budget, middle, frontier)',
      'auto.policies.acme/x.tier: no tier named "nope" (tiers: budget, middle, frontier)',
    ]);
    expect(issues({ auto: { tiers: THREE, escalate_on: { check: { regex: '(' } } } })?.[0]).toMatch(/^auto\.escalate_on\.check\.regex: not a valid regular expression/);
    expect(issues({ auto: { tiers: THREE, escalate_on: { retries: 3 } } })?.[0]).toMatch(/^auto\.escalate_on: Unrecognized key: "retries"/);
    expect(issues({ auto: { tiers: THREE, policies: { 'Acme Corp': { tier: 'budget' } } } })).toEqual([
      'auto.policies.Acme Corp: a policy key is a scope path (org, org/team, org/team/project or org/team/project/agent), got "Acme Corp"',
    ]);
    expect(issues({ 'my model': { tiers: THREE } })).toEqual(['my model: a routed model name is letters, digits, ".", "_", ":" or "-" (e.g. auto), got "my model"']);
  });
});
