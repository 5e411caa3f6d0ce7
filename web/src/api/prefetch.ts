/**
 * Requests started before React has rendered anything: the page the address names is fetched
 * while the session is being read, and handed to the first `useApi` that asks for the same path.
 */
import { apiGet } from './client.ts';

/** An answer nobody took within this long is stale: the page asks again. */
const FRESH_MS = 10_000;

const pending = new Map<string, { at: number; answer: Promise<unknown> }>();

export function prefetch(path: string): void {
  if (pending.has(path)) return;
  const answer = apiGet<unknown>(path);
  // Nobody may ever take it (the user goes elsewhere): its failure must not surface as unhandled.
  answer.catch(() => undefined);
  pending.set(path, { at: Date.now(), answer });
}

/** The prefetched answer for `path`, once, while fresh; undefined otherwise. */
export function takePrefetched<T>(path: string): Promise<T> | undefined {
  const p = pending.get(path);
  pending.delete(path);
  return p !== undefined && Date.now() - p.at < FRESH_MS ? (p.answer as Promise<T>) : undefined;
}
