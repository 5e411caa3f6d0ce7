/**
 * A detector that starts with no history (a fresh install) and watches the demo's traffic call by
 * call: when its data first reaches a full week, an hour a week back can be before its history, and
 * the expectation for it is unknown (NaN). That must never surface as a finding (nor crash evaluate()).
 */
import { describe, expect, it } from 'vitest';
import { Detector } from '../../src/analytics/anomalies/detector.ts';
import type { Observation } from '../../src/analytics/anomalies/contract.ts';
import { observationOf } from '../../src/demo/replay-anomalies.ts';
import { seedDemo } from '../../src/demo/seed-demo.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';

const FIVE_MIN = 300_000;

describe('anomaly detector from a cold start', () => {
  it('passes its first full week without an unknown expectation turning into a finding', async () => {
    const store = await openSqliteStore(':memory:');
    const now = Date.UTC(2026, 10, 28, 18);
    await seedDemo(store, createPricer(), { now, days: 10, actor: 'test', replayAnomalies: false });
    const calls: Observation[] = [];
    for (let cursor: string | null = null; ; ) {
      const page = await store.ledger.events({ limit: 5000, ...(cursor === null ? {} : { cursor }) });
      for (const e of page.rows) {
        const o = observationOf(e);
        if (o) calls.push(o);
      }
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    await store.close();
    calls.sort((a, b) => a.at - b.at);
    const detector = new Detector();
    let next = Math.ceil(calls[0]!.at / FIVE_MIN) * FIVE_MIN;
    let evaluations = 0;
    for (const o of calls) {
      while (o.at >= next) {
        for (const f of detector.evaluate(next).opened) expect(Number.isFinite(f.atRiskNanoPerHour), f.summary).toBe(true);
        evaluations++;
        next += FIVE_MIN;
      }
      detector.observe(o);
    }
    // Past the first full week, call by call.
    expect(evaluations).toBeGreaterThan((8 * 86_400_000) / FIVE_MIN);
  }, 120_000);
});
