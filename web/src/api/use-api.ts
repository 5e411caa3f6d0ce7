import { useCallback, useEffect, useState } from 'react';
import { ApiError, apiGet } from './client.ts';
import { takePrefetched } from './prefetch.ts';

export interface ApiState<T> {
  /** The last answer; kept while a newer request is in flight so the page does not flicker, dropped when it fails. */
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (null: nothing yet) and again whenever it changes; stale answers are dropped. */
export function useApi<T>(path: string | null): ApiState<T> {
  const [state, setState] = useState<{ path: string | null; data: T | undefined; error: ApiError | undefined; loading: boolean }>({
    path: null,
    data: undefined,
    error: undefined,
    loading: path !== null,
  });
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    (takePrefetched<T>(path) ?? apiGet<T>(path, ctl.signal)).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ path, data, error: undefined, loading: false });
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        const e = err instanceof ApiError ? err : new ApiError(0, 'client', err instanceof Error ? err.message : String(err));
        // The answer on screen belonged to another question (another scope or period): never show it under this one.
        setState({ path, data: undefined, error: e, loading: false });
      },
    );
    return () => ctl.abort();
  }, [path, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
