/**
 * The named inputs: horizon, growth, users, shares and price changes as people write them; the mix
 * and price multipliers; the forecast's contributions adding up; the pilot CSV.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/analytics/forecast/forecast-model.ts';
import { runForecast } from '../../src/analytics/forecast/forecast.ts';
import { mixScenario, parsePriceChange } from '../../src/analytics/forecast/model-mix.ts';
import type { ModelSpend } from '../../src/analytics/forecast/model-mix.ts';
import { parsePilotCsv } from '../../src/analytics/forecast/pilot-csv.ts';
import { parseGrowth, parseHorizon, parseShare, parseUsers, userSchedule } from '../../src/analytics/forecast/scenario.ts';
import { monthOf, monthsAfter } from '../../src/analytics/forecast/unit-series.ts';
import { paretoTailed, syntheticSeries } from './synthetic.ts';

describe('inputs', () => {
  it('reads horizons, growth, users and shares, and refuses what it cannot read', () => {
    expect([parseHorizon('3m'), parseHorizon('12'), parseHorizon('1y'), parseHorizon('2 months')]).toEqual([3, 12, 12, 2]);
    for (const bad of ['0m', '37m', '3w', 'soon']) expect(() => parseHorizon(bad)).toThrow(/horizon/);
    expect(parseGrowth('15%/month')).toBeCloseTo(0.15, 12);
    expect(parseGrowth('-5%')).toBeCloseTo(-0.05, 12);
    expect(parseGrowth('0')).toBe(0);
    expect(parseGrowth('40%/year')).toBeCloseTo(Math.pow(1.4, 1 / 12) - 1, 12);
    for (const bad of ['15', '-100%', 'fast', '15%/week']) expect(() => parseGrowth(bad)).toThrow(/growth/);
    expect(parseUsers('5,000')).toBe(5000);
    for (const bad of ['0', '-3', '2.5', 'many']) expect(() => parseUsers(bad)).toThrow(/--users/);
    expect([parseShare('0.15'), parseShare('15%'), parseShare('1')]).toEqual([0.15, 0.15, 1]);
    for (const bad of ['1.5', '-0.1', 'half']) expect(() => parseShare(bad)).toThrow(/--frontier-share/);
    expect(userSchedule(100, 0.5, 3)).toEqual([100, 150, 225]);
  });

  it('reads price changes with and without model and date', () => {
    expect(parsePriceChange('anthropic:x2.5@2026-04-01')).toEqual({ provider: 'anthropic', model: null, multiplier: 2.5, from: Date.UTC(2026, 3, 1), text: 'anthropic:x2.5@2026-04-01' });
    expect(parsePriceChange('openai:gpt-4o:x0.5')).toMatchObject({ provider: 'openai', model: 'gpt-4o', multiplier: 0.5, from: null });
    for (const bad of ['anthropic', 'anthropic:2.5', 'anthropic:x0', 'anthropic:x2@2026-02-30', 'x2']) expect(() => parsePriceChange(bad)).toThrow(/price/);
  });
});

describe('mixScenario', () => {
  // Frontier: $80 over 10M tokens ($8/MTok); budget: $20 over 40M tokens ($0.50/MTok). 20 % of tokens, 80 % of spend on frontier.
  const models: ModelSpend[] = [
    { provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', spendUsd: 80, tokens: 10e6, frontier: true },
    { provider: 'openai', model: 'gpt-4.1-mini', spendUsd: 20, tokens: 40e6, frontier: false },
  ];
  const months = monthsAfter(monthOf(Date.UTC(2026, 2, 1)), 2); // 2026-04, 2026-05

  it('relates the target frontier share to today\'s and scales spend exactly', () => {
    const s = mixScenario(models, { frontierShare: 0.1, priceChanges: [], months });
    expect(s.frontierTokenShare).toBeCloseTo(0.2, 12);
    expect(s.frontierSpendShare).toBeCloseTo(0.8, 12);
    // Frontier tokens halve (10 % of 50M): $40; budget tokens 45M: $22.50. $62.50 of $100.
    expect(s.mix).toBeCloseTo(0.625, 12);
    expect(s.price).toEqual([1, 1]);
  });

  it('applies a price multiplier from its date, pro rata in the month it starts, to the matching family only', () => {
    const s = mixScenario(models, { frontierShare: null, priceChanges: [parsePriceChange('anthropic:claude-sonnet-4-5:x2@2026-04-16')], months });
    // April: 15 of 30 days at ×2 on 80 % of spend → 1 + 0.8 × 0.5; May: 1 + 0.8.
    expect(s.price[0]).toBeCloseTo(1.4, 12);
    expect(s.price[1]).toBeCloseTo(1.8, 12);
    expect(s.mix).toBe(1);
  });

  it('refuses what cannot be scaled or matched', () => {
    expect(() => mixScenario(models.slice(1), { frontierShare: 0.1, priceChanges: [], months })).toThrow(/no frontier-model tokens/);
    expect(() => mixScenario(models, { frontierShare: null, priceChanges: [parsePriceChange('google:x2')], months })).toThrow(/matches no spend/);
  });
});

describe('runForecast', () => {
  const series = syntheticSeries({ users: [300, 300, 300], level: paretoTailed(10, 1, 0.1, 1.5), noise: 0.3, jumpUp: 0.01, jumpDown: 0.1, seed: 4 });
  const model = buildModel(series, { bootstrap: 8, seed: 1 });
  const run = (o: Partial<Parameters<typeof runForecast>[1]>) => runForecast(model, { horizon: 3, users: null, growth: 0, mix: 1, price: [], trials: 2000, seed: 1, ...o });

  it('adds up: today + adoption + mix + price + tail is the forecast, at every quantile and month', () => {
    const r = run({ users: 600, growth: 0.1, mix: 0.8, price: [1, 1.5, 1.5] });
    for (const m of r.months) {
      for (const q of ['p50', 'p90', 'p99'] as const) {
        const c = m.contributions[q];
        expect(c.today + c.adoption + c.mix + c.price + c.tail).toBeCloseTo(m.spend[q], 6);
      }
      expect(m.contributions.p50.adoption).toBeGreaterThan(0);
      expect(m.contributions.p50.mix).toBeLessThan(0);
    }
    expect(r.months[0]!.contributions.p50.price).toBeCloseTo(0, 6);
    expect(r.months[1]!.contributions.p50.price).toBeGreaterThan(0);
    expect(r.months.map((m) => m.users)).toEqual([600, 660, 726]);
  });

  it('scales exactly with a price multiplier, and stays near today\'s spend without inputs', () => {
    const flat = run({});
    const doubled = run({ price: [2, 2, 2] });
    expect(doubled.months[0]!.spend.p90).toBeCloseTo(2 * flat.months[0]!.spend.p90, 6);
    const lastMonth = series.spend.filter((_, k) => k % 3 === 2).reduce((s, v) => s + v, 0);
    expect(flat.months[0]!.spend.p50 / lastMonth).toBeGreaterThan(0.85);
    expect(flat.months[0]!.spend.p50 / lastMonth).toBeLessThan(1.15);
    expect(flat.months[0]!.spend.p90).toBeGreaterThan(flat.months[0]!.spend.p50);
    expect(flat.horizonTotal.p50).toBeGreaterThan(2.5 * flat.months[0]!.spend.p50);
  });

  it('draws every unit fresh when fewer users than today are asked for', () => {
    const r = run({ users: 100 });
    expect(r.knownCarried).toBe(false);
    expect(r.months[0]!.users).toBe(100);
  });
});

describe('parsePilotCsv', () => {
  it('reads users per day in any column order, quoted cells, and sums repeats', () => {
    const csv = 'spend_usd,user,day,team\r\n"1,250.50",alice,2026-03-01,x\r\n2,bob,2026-03-01,y\r\n3,alice,2026-03-01,x\r\n4,"bob ""b""",2026-03-31,z\r\n';
    const { series, days } = parsePilotCsv(csv);
    expect(series.months.map((m) => m.label)).toEqual(['2026-03']);
    expect(series.units).toEqual(['alice', 'bob', 'bob "b"']);
    expect([...series.spend]).toEqual([1253.5, 2, 4]);
    expect(days).toHaveLength(4);
  });

  it('reads users per month', () => {
    const { series, days } = parsePilotCsv('user,month,spend_usd\na,2026-01,10\na,2026-02,12\nb,2026-02,3\n');
    expect(series.months.map((m) => m.label)).toEqual(['2026-01', '2026-02']);
    expect([...series.spend]).toEqual([10, 12, 0, 3]);
    expect(days).toBeNull();
  });

  it('says what is wrong, and where', () => {
    expect(() => parsePilotCsv('name,spend\nx,1\n')).toThrow(/needs columns user, day \(or month\) and spend_usd/);
    expect(() => parsePilotCsv('user,day,spend_usd\na,2026-02-30,1\n')).toThrow(/line 2: "2026-02-30" is not a day/);
    expect(() => parsePilotCsv('user,day,spend_usd\na,2026-02-01,ten\n')).toThrow(/line 2: spend_usd "ten" is not a USD amount/);
    expect(() => parsePilotCsv('user,day,spend_usd\na,2026-02-01,-1\n')).toThrow(/line 2: spend_usd is negative/);
    expect(() => parsePilotCsv('user,day,spend_usd\n,2026-02-01,1\n')).toThrow(/line 2: empty user/);
    expect(() => parsePilotCsv('user,day,spend_usd\n')).toThrow(/no rows/);
    expect(() => parsePilotCsv('user,day,spend_usd\na,2026-02-01,1\n')).toThrow(/not enough history/);
  });
});
