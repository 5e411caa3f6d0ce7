import { describe, expect, it } from 'vitest';
import type { SseEvent } from '../../src/providers/sse.ts';
import { SseSplitter } from '../../src/providers/sse.ts';
import { randomChunks, seededRandom, splitAll } from './track-stream.ts';

const SAMPLE =
  ': keep-alive\n\n' +
  'event: message_start\ndata: {"a":"東京🙂 café"}\n\n' +
  'data: first\r\ndata: second\r\n\r\n' +
  'id: 7\rretry: 1500\rdata: cr-only\r\r' +
  'event: x\ndata\ndata:  two spaces\nunknown: y\n\n' +
  'data: [DONE]\n\n' +
  'data: tail without blank line';

/** The parsed view of an event: what must not depend on how the stream was chunked. */
const parsed = (events: SseEvent[]) => events.map(({ event, data, id, retry }) => ({ event, data, id, retry }));
const raws = (events: SseEvent[]) => events.map((e) => e.raw).join('');
const bytes = (s: string) => new TextEncoder().encode(s);

const EXPECTED = [
  { event: null, data: '', id: undefined, retry: undefined },
  { event: 'message_start', data: '{"a":"東京🙂 café"}', id: undefined, retry: undefined },
  { event: null, data: 'first\nsecond', id: undefined, retry: undefined },
  { event: null, data: 'cr-only', id: '7', retry: 1500 },
  { event: 'x', data: '\n two spaces', id: undefined, retry: undefined },
  { event: null, data: '[DONE]', id: undefined, retry: undefined },
  { event: null, data: 'tail without blank line', id: undefined, retry: undefined },
];

describe('SseSplitter', () => {
  it('parses fields, comments, multi-line data, id and retry with LF, CRLF and CR line endings', () => {
    const events = splitAll([SAMPLE]);
    expect(parsed(events)).toEqual(EXPECTED);
    expect(events.map((e) => e.raw)).toEqual([
      ': keep-alive\n\n',
      'event: message_start\ndata: {"a":"東京🙂 café"}\n\n',
      'data: first\r\ndata: second\r\n\r\n',
      'id: 7\rretry: 1500\rdata: cr-only\r\r',
      'event: x\ndata\ndata:  two spaces\nunknown: y\n\n',
      'data: [DONE]\n\n',
      'data: tail without blank line',
    ]);
  });

  it('returns an event as soon as its blank line arrives, and the unterminated last one only from end()', () => {
    const splitter = new SseSplitter();
    expect(splitter.push('data: a\n')).toEqual([]);
    expect(splitter.push('\ndata: b')).toEqual([{ raw: 'data: a\n\n', event: null, data: 'a' }]);
    expect(splitter.end()).toEqual([{ raw: 'data: b', event: null, data: 'b' }]);
    expect(splitter.end()).toEqual([]);
  });

  it('gives the same events and the same bytes at every split point (bytes, including inside UTF-8 characters)', () => {
    const input = bytes(SAMPLE);
    for (let cut = 0; cut <= input.length; cut++) {
      const events = splitAll([input.subarray(0, cut), input.subarray(cut)]);
      expect(raws(events), `cut at byte ${cut}`).toBe(SAMPLE);
      expect(parsed(events), `cut at byte ${cut}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events and the same bytes under random chunkings (seeded)', () => {
    const random = seededRandom(20240607);
    const variants = [SAMPLE, SAMPLE.replaceAll('\n', '\r\n'), SAMPLE.replaceAll('\n', '\r')];
    for (const text of variants) {
      const expected = parsed(splitAll([text]));
      const input = bytes(text);
      for (let run = 0; run < 400; run++) {
        const events = splitAll(randomChunks(input, random, 1 + Math.floor(random() * 40)));
        expect(raws(events)).toBe(text);
        expect(parsed(events)).toEqual(expected);
      }
    }
  });

  it('survives a byte-at-a-time feed', () => {
    const input = bytes(SAMPLE);
    const events = splitAll(Array.from(input, (b) => Uint8Array.of(b)));
    expect(raws(events)).toBe(SAMPLE);
    expect(parsed(events)).toEqual(EXPECTED);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const input = bytes('data: 🙂\n\n'); // the emoji is 4 bytes: split after each of its first 3
    for (const cut of [7, 8, 9]) {
      const splitter = new SseSplitter();
      expect(splitter.push(input.subarray(0, cut))).toEqual([]);
      expect(splitter.push(input.subarray(cut))).toEqual([{ raw: 'data: 🙂\n\n', event: null, data: '🙂' }]);
    }
  });

  it('treats a CRLF split across chunks as one line break, not a blank line', () => {
    const splitter = new SseSplitter();
    expect(splitter.push('data: a\r')).toEqual([]);
    expect(splitter.push('\ndata: b\r\n\r')).toEqual([{ raw: 'data: a\r\ndata: b\r\n\r', event: null, data: 'a\nb' }]);
    // The LF completing the blank line's CRLF opens the next block's raw text: bytes are kept, no event invented.
    expect(splitter.push('\ndata: c\r\n\r\n')).toEqual([{ raw: '\ndata: c\r\n\r\n', event: null, data: 'c' }]);
  });

  it('ignores a leading byte-order mark when parsing, and keeps it in raw', () => {
    const events = splitAll([bytes('\uFEFFdata: x\n\n')]);
    expect(events).toEqual([{ raw: '\uFEFFdata: x\n\n', event: null, data: 'x' }]);
  });

  it('passes an oversized event through in fragments instead of buffering it, then resumes', () => {
    const big = `event: huge\ndata: ${'x'.repeat(1000)}\ndata: ${'y'.repeat(500)}\n\n`;
    const text = `data: before\n\n${big}data: after\n\n`;
    const splitter = new SseSplitter({ maxEventChars: 100 });
    const events: SseEvent[] = [];
    const input = bytes(text);
    for (let i = 0; i < input.length; i += 64) {
      const got = splitter.push(input.subarray(i, i + 64));
      // While inside the big event, every chunk comes straight back: nothing accumulates.
      if (i > 150 && i + 64 < 14 + big.length) expect(got.length).toBeGreaterThan(0);
      events.push(...got);
    }
    events.push(...splitter.end());
    expect(raws(events)).toBe(text);
    expect(events[0]).toEqual({ raw: 'data: before\n\n', event: null, data: 'before' });
    expect(events.at(-1)).toEqual({ raw: 'data: after\n\n', event: null, data: 'after' });
    const middle = events.slice(1, -1);
    expect(middle.every((e) => e.oversized === true && e.data === '')).toBe(true);
    expect(middle[0]?.event).toBe('huge');
    expect(middle.map((e) => e.raw).join('')).toBe(big);
  });

  it('flags an oversized single line that never ends, and its unterminated rest at end()', () => {
    const splitter = new SseSplitter({ maxEventChars: 10 });
    expect(splitter.push('data: 0123')).toEqual([]);
    expect(splitter.push('456789')).toEqual([{ raw: 'data: 0123456789', event: null, data: '', oversized: true }]);
    expect(splitter.push('abc')).toEqual([{ raw: 'abc', event: null, data: '', oversized: true }]);
    expect(splitter.push('\n\r\ndata: ok\n\n')).toEqual([
      { raw: '\n\r\n', event: null, data: '', oversized: true },
      { raw: 'data: ok\n\n', event: null, data: 'ok' },
    ]);
    expect(splitter.end()).toEqual([]);
  });

  it('keeps the byte-exact property for oversized events under random chunkings', () => {
    const random = seededRandom(99);
    const text = `data: a\n\n${'data: zzzzzzzzzz\r\n'.repeat(20)}\r\ndata: b\r\r: c\n\ndata: ${'q'.repeat(300)}`;
    const input = bytes(text);
    for (let run = 0; run < 300; run++) {
      const events = splitAll(randomChunks(input, random, 1 + Math.floor(random() * 30)), 64);
      expect(raws(events)).toBe(text);
      expect(events.filter((e) => e.oversized !== true).map((e) => e.data)).toEqual(['a', 'b', '']);
    }
  });
});
