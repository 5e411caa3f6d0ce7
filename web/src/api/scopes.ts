/**
 * The scope tree the signed-in principal may see, read once per session (pages share it) and
 * read again after sign-in or a change that adds scopes.
 */
import { useEffect, useState } from 'react';
import { ApiError, apiGet } from './client.ts';
import type { DataList, ScopeNode } from './types.ts';

let cached: Promise<ScopeNode[]> | null = null;

/** Forgets the tree (on sign-in and sign-out, or after creating a key for a new scope). */
export function forgetScopes(): void {
  cached = null;
}

function load(): Promise<ScopeNode[]> {
  cached ??= apiGet<DataList<ScopeNode>>('/api/scopes').then(
    (r) => [...r.data].sort((a, b) => a.path.localeCompare(b.path)),
    (err: unknown) => {
      cached = null;
      throw err;
    },
  );
  return cached;
}

export function useScopes(): { scopes: ScopeNode[] | undefined; error: ApiError | undefined } {
  const [state, setState] = useState<{ scopes: ScopeNode[] | undefined; error: ApiError | undefined }>({ scopes: undefined, error: undefined });
  useEffect(() => {
    let live = true;
    load().then(
      (scopes) => live && setState({ scopes, error: undefined }),
      (err: unknown) => live && setState({ scopes: undefined, error: err instanceof ApiError ? err : new ApiError(0, 'client', String(err)) }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
