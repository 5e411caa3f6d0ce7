/** Test helpers: feed SSE text through the splitter and a tracker the way the gateway does, in random chunks. */
import { adapterFor } from '../../src/providers/index.ts';
import type { ApiRoute, StreamTracker } from '../../src/providers/index.ts';
import type { SseEvent } from '../../src/providers/sse.ts';
import { SseSplitter } from '../../src/providers/sse.ts';
import { seededRandom } from '../../src/domain/seeded-random.ts';

export { seededRandom };

/** Splits `bytes` at `count - 1` random points (repeats allowed: empty chunks are part of the test). */
export function randomChunks(bytes: Uint8Array, random: () => number, count: number): Uint8Array[] {
  const cuts = Array.from({ length: count - 1 }, () => Math.floor(random() * (bytes.length + 1))).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/** Every event of `chunks`, from push and end, in order. */
export function splitAll(chunks: readonly (Uint8Array | string)[], maxEventChars?: number): SseEvent[] {
  const splitter = new SseSplitter(maxEventChars === undefined ? undefined : { maxEventChars });
  const events: SseEvent[] = [];
  for (const chunk of chunks) events.push(...splitter.push(chunk));
  events.push(...splitter.end());
  return events;
}

export interface Tracked {
  tracker: StreamTracker;
  /** What the gateway would send to the client: the raw text of every forwarded event. */
  forwarded: string;
  dropped: SseEvent[];
}

/** Runs an upstream stream through a tracker, cut in `pieces` random chunks (seeded). */
export function trackStream(route: ApiRoute, text: string, opts: { injectedUsage?: boolean; seed?: number; pieces?: number } = {}): Tracked {
  const tracker = adapterFor(route).streamTracker({ injectedUsage: opts.injectedUsage ?? false });
  const bytes = new TextEncoder().encode(text);
  const chunks = randomChunks(bytes, seededRandom(opts.seed ?? 7), opts.pieces ?? 9);
  let forwarded = '';
  const dropped: SseEvent[] = [];
  for (const e of splitAll(chunks)) {
    if (tracker.onEvent(e) === 'drop') dropped.push(e);
    else forwarded += e.raw;
  }
  return { tracker, forwarded, dropped };
}

/** SSE framing for fixtures. */
export function sse(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return event === undefined ? `data: ${payload}\n\n` : `event: ${event}\ndata: ${payload}\n\n`;
}
