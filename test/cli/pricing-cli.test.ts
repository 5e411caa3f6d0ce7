/**
 * `tollgate reprice`, `price-changes` and `breakeven` as a user drives them: in-process through
 * `run()`, first on a two-call ledger whose figures are easy to check by hand, then on the demo
 * organisation with the shipped example scenario (each answer fits one screen).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/seed-demo.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { cliRunner } from '../support/cli.ts';
import { makeEvent } from '../support/events.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-pricing-cli-'));
const dbFile = join(root, 'ledger.db');
const demoFile = join(root, 'demo.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
};

async function chainFor(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

/**
 * October 2026, no discounts: support's triage-bot 10 calls of 100k input + 10k output of sonnet on Oct 10 ($4.50);
 * sales' qualifier 1M input of gpt-4.1-mini on Oct 11 ($0.40).
 */
beforeAll(async () => {
  const pricer = createPricer();
  const store = await openSqliteStore(dbFile);
  try {
    const triage = await chainFor(store, 'acme/support/helpdesk/triage-bot');
    const qualifier = await chainFor(store, 'acme/sales/leads/qualifier');
    const ev = (chain: ScopeChain, provider: string, model: string, input: number, output: number, at: number) => {
      const u = usage({ inputTokens: input, outputTokens: output });
      const q = pricer.price(provider, model, u, at);
      return makeEvent(chain, { startedAt: at, provider, servedModel: model, requestedModel: model, usage: u, listCostNano: q.listNano, effectiveCostNano: q.effectiveNano });
    };
    await store.ledger.record([
      ...Array.from({ length: 10 }, (_, i) => ev(triage, 'anthropic', 'claude-sonnet-4-5', 100_000, 10_000, Date.UTC(2026, 9, 10, 12, i))),
      ev(qualifier, 'openai', 'gpt-4.1-mini', 1_000_000, 0, Date.UTC(2026, 9, 11, 12)),
    ]);
  } finally {
    await store.close();
  }
});

const { cli, ok, json, refused } = cliRunner(() => dbFile);
const scenario = file('x2.yaml', 'name: Anthropic x2\ndescription: what if Anthropic doubled its prices\nchanges:\n  - multiply: { provider: anthropic, factor: 2 }\n');

describe('tollgate reprice', () => {
  it('prints the total, what each change did, and who is hit hardest', async () => {
    expect(await ok('reprice', '--scenario', scenario, '--from', '2026-10-01', '--to', '2026-11-01')).toBe(
      [
        'Scenario "Anthropic x2" on the whole ledger, 2026-10-01 → 2026-11-01 (effective cost; base = the ledger as recorded)',
        'what if Anthropic doubled its prices',
        '',
        '        base  scenario   delta  delta %',
        '─────  ─────  ────────  ──────  ───────',
        'total  $4.90     $9.40  +$4.50   +91.8%',
        '11 calls, 10 of them cost differently under the scenario.',
        '',
        "What the scenario did (each change's own delta, in file order):",
        '  1. multiply anthropic/* prices ×2: 10 calls, +$4.50',
        '',
        'Hardest hit teams:',
        'rank  team           base  scenario   delta  delta %  share of delta',
        '────  ────────────  ─────  ────────  ──────  ───────  ──────────────',
        '   1  acme/support  $4.50     $9.00  +$4.50  +100.0%          100.0%',
        '   2  acme/sales    $0.40     $0.40   $0.00     0.0%            0.0%',
        '',
        'Hardest hit agents:',
        'rank  agent                              base  scenario   delta  delta %  share of delta',
        '────  ────────────────────────────────  ─────  ────────  ──────  ───────  ──────────────',
        '   1  acme/support/helpdesk/triage-bot  $4.50     $9.00  +$4.50  +100.0%          100.0%',
        '   2  acme/sales/leads/qualifier        $0.40     $0.40   $0.00     0.0%            0.0%',
        '',
      ].join('\n'),
    );
  });

  it('--by model, --scope and --json', async () => {
    expect(await ok('reprice', '--scenario', scenario, '--month', '2026-10', '--by', 'model')).toContain('   1  anthropic/claude-sonnet-4-5  $4.50     $9.00  +$4.50');
    const r = await json<{ total: { base_nano: string; delta_nano: string; delta_pct: number }; by_team: { name: string }[]; changes: { description: string; delta_usd: string }[] }>(
      'reprice', '--scenario', scenario, '--month', '2026-10', '--scope', 'acme/sales',
    );
    expect(r.total).toMatchObject({ base_nano: '400000000', delta_nano: '0', delta_pct: 0 });
    expect(r.by_team.map((l) => l.name)).toEqual(['acme/sales']);
    expect(r.changes).toEqual([expect.objectContaining({ description: 'multiply anthropic/* prices ×2', delta_usd: '0.000000000' })]);
  });

  it('refuses a bad scenario, window or scope with one line', async () => {
    expect(await refused('reprice', '--scenario', join(root, 'missing.yaml'), '--month', '2026-10')).toMatch(/cannot read scenario file .*missing\.yaml/);
    const bad = file('bad.yaml', 'name: bad\nchanges:\n  - multiply: { provider: anthropic, factor: -1 }\n');
    expect(await refused('reprice', '--scenario', bad, '--month', '2026-10')).toMatch(/bad\.yaml: invalid scenario: changes\.0\.multiply\.factor: factor -1 must be greater than 0/);
    expect(await refused('reprice', '--scenario', scenario, '--from', '2026-10-01')).toMatch(/give both from and to/);
    expect(await refused('reprice', '--scenario', scenario, '--month', '2026-10', '--scope', 'acme/nope')).toMatch(/scope "acme\/nope" does not exist/);
    expect((await cli('reprice', '--month', '2026-10')).code).toBe(2);
  });
});

describe('tollgate price-changes', () => {
  it('on the ledger: nothing moved', async () => {
    const out = await ok('price-changes', '--from', '2026-10-01', '--to', '2026-11-01');
    expect(out).toContain('No price changes: every model paid a steady share of its catalog price.');
    expect(out).toMatch(/anthropic\/claude-sonnet-4-5\s+1\s+1,100,000\s+100\.0%\s+100\.0%\s+0/);
  });

  it('on a cost report: the change, its evidence, and an alert-ready JSON finding', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => {
      const cost = i >= 5 ? '5.40' : '4.50'; // $4.50 of list each day; +20% from the 6th
      return JSON.stringify({ day: `2026-10-0${i + 1}`, provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: 1_000_000, output_tokens: 100_000, cost_usd: cost });
    });
    const report = file('report.jsonl', rows.join('\n') + '\n');
    const out = await ok('price-changes', '--report', report);
    expect(out).toContain('⚠ anthropic/claude-sonnet-4-5: effective price +20.0% since 2026-10-06, catalog unchanged');
    expect(out).toContain('Paid 100.0% of the catalog list price from 2026-10-01 to 2026-10-05, 120.0% since 2026-10-06 (3 days).');
    const r = await json<{ findings: { title: string; summary: string; evidence: Record<string, unknown> }[] }>('price-changes', '--report', report);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.evidence).toMatchObject({ since: '2026-10-06', change_pct: 20, catalog_moved: false, impact_per_30_days_usd: '$27.00' });
    expect(await refused('price-changes', '--report', file('broken.jsonl', '{"day":"2026-10-01"}\n'))).toMatch(/broken\.jsonl line 1: provider: .*/);
    expect(await refused('price-changes', '--report', report, '--tolerance', 'lots')).toMatch(/--tolerance "lots" must be a percentage above 0/);
    // A wider band than the move: nothing to report.
    expect(await ok('price-changes', '--report', report, '--tolerance', '25')).toContain('No price changes');
  });
});

describe('tollgate breakeven', () => {
  const args = ['--model', 'claude-sonnet-4-5', '--from', '2026-10-01', '--to', '2026-10-31', '--gpu-hourly', '4.50', '--gpus', '2', '--tokens-per-second', '1000', '--utilisation', '0.5', '--ops-headcount', '0.5', '--salary', '120000'];

  it('compares the ledger\'s monthly API bill with the deployment, and finds the break-even volume', async () => {
    // 1.1M tokens (10 calls) for $4.50 over 30 days → 730 h: 1,115,278 tokens ($4.5625). Self-host: 2 × 4.50 × 730 = $6,570 + 0.5 × 120,000 / 12 = $5,000.
    // Break-even: 11,570 / 4.50 × 1.1M = 2,828.2M tokens; capacity 1,000 × 2 × 0.5 × 2,628,000 = 2,628M: beyond it.
    const out = await ok('breakeven', ...args);
    expect(out).toContain('  cost       $4.56 a month, $4.09 per million tokens');
    expect(out).toContain('  total      $11,570.00 a month');
    expect(out).toContain('capacity   1,000 tokens/s per GPU × 2 × 50.0% busy = 2,628M tokens a month: today\'s volume fits');
    expect(out).toContain('The API costs as much as this deployment at 2,828.2M tokens a month');
    expect(out).toContain('beyond its capacity (2,628M tokens)');
    expect(out).toContain('Dominant input: GPU time (56.8% of the self-host cost), then people (43.2%)');
    const r = await json<{ breakeven_tokens_per_month: string; self_host: { total_usd_per_month: string }; at_scale: { gpus: string; tokens_per_month: string } | null; scenario: { breakeven_tokens_per_month: string } }>(
      'breakeven', ...args, '--scenario', scenario,
    );
    expect(r.breakeven_tokens_per_month).toBe('2828222223');
    expect(r.self_host.total_usd_per_month).toBe('11570.000000000');
    // One GPU: 1,314M tokens a month worth $5,375.45 at $4.09/MTok vs $3,285 → pays from 3 GPUs.
    expect(r.at_scale).toEqual({ gpus: '3', tokens_per_month: '3631222223' });
    // Anthropic × 2 halves the break-even volume.
    expect(r.scenario.breakeven_tokens_per_month).toBe('1414111112');
  });

  it('refuses bad inputs with one line', async () => {
    expect(await refused('breakeven', ...args.slice(0, 6), '--gpu-hourly', 'lots', '--gpus', '2', '--tokens-per-second', '1000')).toMatch(/--gpu-hourly "lots" must be an amount of USD/);
    expect(await refused('breakeven', ...args, '--utilisation', '1.5')).toMatch(/--utilisation "1.5" must be a fraction above 0 and at most 1/);
    expect(await refused('breakeven', ...args, '--gpus', '0')).toMatch(/--gpus "0" must be a whole number of GPUs/);
    expect(await refused('breakeven', ...args.slice(2), '--model', 'llama-3-70b')).toMatch(/no calls to llama-3-70b in this window; models used: claude-sonnet-4-5, gpt-4.1-mini/);
  });
});

describe('on the demo data', () => {
  const demo = cliRunner(() => demoFile);
  beforeAll(async () => {
    const store = await openSqliteStore(demoFile);
    try {
      await seedDemo(store, createPricer(), { now: Date.UTC(2026, 10, 28, 23), days: 30, actor: 'test' });
    } finally {
      await store.close();
    }
  }, 60_000);

  it('reprice with the example scenario answers in one screen', async () => {
    const out = await demo.ok('reprice', '--scenario', 'examples/scenario-anthropic-2x.yaml', '--from', '2026-11-01', '--to', '2026-11-30');
    expect(out.split('\n').length).toBeLessThanOrEqual(40);
    expect(out).toContain('1. multiply anthropic/* prices ×2 from 2026-11-15');
    expect(out).toMatch(/\n {3}1 {2}acme\/eng /);
    expect(out).toMatch(/\n {3}4 {2}acme\/sales .* \$0\.00 +0\.0%/);
  }, 30_000);

  it('the renewal example uses every kind of change, and shows the unused commitment as its own row', async () => {
    const out = await demo.ok('reprice', '--scenario', 'examples/scenario-renewal.yaml', '--month', '2026-11');
    expect(out.split('\n').length).toBeLessThanOrEqual(40);
    expect(out).toMatch(/1\. new prices for openai\/gpt-4\.1-mini from 2026-11-15: .*\n {2}2\. escalator on openai\/\*: .*\n {2}3\. commit \$1,500\.00\/month to anthropic at 15% off/);
    expect(out).toMatch(/2026-11: commitment \$1,500\.00, used \$[\d,.]+, unused \$[\d,.]+ \(paid\)/);
    expect(out).toMatch(/\n {6}\(unused commitment\) +\$0\.00 +\$[\d,.]+ +\+\$/);
  }, 30_000);

  it('breakeven answers in one screen', async () => {
    const out = await demo.ok('breakeven', '--model', 'claude-sonnet-4-5', '--from', '2026-11-01', '--to', '2026-11-28', '--gpu-hourly', '4.50', '--gpus', '8', '--tokens-per-second', '2500', '--utilisation', '0.4', '--ops-headcount', '1.5', '--salary', '220000', '--scenario', 'examples/scenario-anthropic-2x.yaml');
    expect(out.split('\n').length).toBeLessThanOrEqual(30);
    expect(out).toContain('Break-even');
    expect(out).toContain('Under scenario "Anthropic doubles list prices"');
  }, 30_000);
});
