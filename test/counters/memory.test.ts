import { describe, expect, it } from 'vitest';
import { MemoryCounters } from '../../src/counters/memory/memory-counters.ts';
import { openCounters } from '../../src/counters/open-counters.ts';
import { runCountersContract } from './counters-contract.ts';

runCountersContract('memory', () => Promise.resolve(new MemoryCounters()));

describe('openCounters without a Redis URL', () => {
  it('opens in-process counters', async () => {
    for (const url of [undefined, null, '']) {
      const counters = await openCounters(url);
      expect([counters.kind, counters.location]).toEqual(['memory', 'in-process']);
      await counters.close();
    }
  });
});
