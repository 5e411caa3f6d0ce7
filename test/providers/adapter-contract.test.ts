/** What every adapter promises, whatever it is fed: no throw, events forwarded, a fresh tracker each time. */
import { describe, expect, it } from 'vitest';
import { adapterFor, API_ROUTES } from '../../src/providers/index.ts';
import type { SseEvent } from '../../src/providers/sse.ts';
import { seededRandom } from './track-stream.ts';

const NASTY: unknown[] = [null, undefined, 0, 'x', [], [null], {}, { usage: null }, { usage: [] }, { usage: { a: 1 } }, { model: 5, usage: {} }, Object.create(null)];

function randomEvent(random: () => number): SseEvent {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const type = pick(['message_start', 'message_delta', 'content_block_delta', 'error', 'response.completed', 'response.failed', 'response.output_text.delta', 'x']);
  const value = pick<unknown>([null, 1, -1, 'str', [], {}, { input_tokens: -3 }, { output_tokens: 1e10 }, { prompt_tokens: 2 }]);
  const data = pick([
    JSON.stringify({ type, usage: value, message: { usage: value }, response: { usage: value, error: value }, delta: value, choices: value, error: value }),
    JSON.stringify({ type, choices: [value], usage: value }),
    '[DONE]',
    '{"truncated":',
    '',
    JSON.stringify(value),
  ]);
  return { raw: `data: ${data}\n\n`, event: random() < 0.5 ? type : null, data };
}

for (const route of API_ROUTES) {
  describe(`${route} adapter contract`, () => {
    const adapter = adapterFor(route);

    it('is registered under its own route', () => {
      expect(adapter.route).toBe(route);
    });

    it('usageFromBody never throws and returns null or a well-formed capture', () => {
      for (const body of NASTY) {
        const c = adapter.usageFromBody(body);
        if (c !== null) expect(c.usage === null).toBe(typeof c.suspicious === 'string');
      }
    });

    it('a tracker never throws on random events, and a suspicious capture always says why', () => {
      const random = seededRandom(route.length * 1000 + 17);
      for (let run = 0; run < 200; run++) {
        const tracker = adapter.streamTracker({ injectedUsage: random() < 0.5 });
        for (let i = 0; i < 12; i++) expect(['forward', 'drop']).toContain(tracker.onEvent(randomEvent(random)));
        for (const c of [tracker.reported(), tracker.partial()]) if (c !== null) expect(c.usage === null).toBe(typeof c.suspicious === 'string');
        expect(typeof tracker.textSeen()).toBe('string');
        expect(typeof tracker.finished()).toBe('boolean');
      }
    });

    it('trackers are independent', () => {
      const a = adapter.streamTracker({ injectedUsage: false });
      a.onEvent({ raw: '', event: null, data: '[DONE]' });
      a.onEvent({ raw: '', event: 'message_stop', data: '{"type":"message_stop"}' });
      a.onEvent({ raw: '', event: null, data: '{"type":"response.completed","response":{}}' });
      expect(adapter.streamTracker({ injectedUsage: false }).finished()).toBe(false);
    });
  });
}
