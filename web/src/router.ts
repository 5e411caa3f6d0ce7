/**
 * A hash router: `#/explore?scope=acme/eng&from=2026-11-01` names a page and its inputs, so every
 * view can be linked, bookmarked and reloaded, and the gateway serves one index.html for all.
 */
import { useSyncExternalStore } from 'react';

export interface Route {
  /** Path segments after `#/`: `#/anomalies/an_1` → ["anomalies", "an_1"]. */
  segments: string[];
  params: URLSearchParams;
}

type Params = Record<string, string | number | boolean | null | undefined>;

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

const currentHash = () => window.location.hash;

/** The page the hash names; re-renders on navigation. */
export function useRoute(): Route {
  return parseHash(useSyncExternalStore(subscribe, currentHash));
}

export function parseHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const path = q === -1 ? body : body.slice(0, q);
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, params: new URLSearchParams(q === -1 ? '' : body.slice(q + 1)) };
}

/** `href('explore', { scope: 'acme/eng' })` → "#/explore?scope=acme%2Feng"; empty values are left out. */
export function href(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  // Slashes in scope paths read better unescaped and are safe in a fragment.
  const s = q.toString().replace(/%2F/gi, '/');
  return `#/${path}${s === '' ? '' : `?${s}`}`;
}

/** Goes to a page (a new history entry, so Back returns). */
export function navigate(path: string, params: Params = {}): void {
  window.location.hash = href(path, params).slice(1);
}

/** Changes the current page's inputs without a new history entry (typing in a filter). */
export function replaceParams(path: string, params: Params): void {
  const next = href(path, params);
  if (next === window.location.hash) return;
  window.history.replaceState(null, '', next);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** The params of a route as a plain object, for building a link that keeps them. */
export function paramsObject(p: URLSearchParams): Record<string, string> {
  return Object.fromEntries(p.entries());
}
