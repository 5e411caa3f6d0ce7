import type { ReactNode } from 'react';
import type { ApiError } from '../api/client.ts';

/** An API error as the API worded it, announced to screen readers. */
export function ErrorNotice({ error, title, testId = 'error' }: { error: ApiError | Error | string | undefined | null; title?: string; testId?: string }) {
  if (error === undefined || error === null) return null;
  const message = typeof error === 'string' ? error : error.message;
  return (
    <div className="notice notice-error" role="alert" data-testid={testId}>
      {title !== undefined && <strong>{title}: </strong>}
      {message}
    </div>
  );
}

/** Shown where data will appear; polite so it does not interrupt. */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

/** The usual trio: an error, or a first load, or the content (kept on screen while it refreshes). */
export function Async<T>({ state, children, what }: { state: { data: T | undefined; error: ApiError | undefined; loading: boolean }; children: (data: T) => ReactNode; what?: string }) {
  return (
    <>
      <ErrorNotice error={state.error} />
      {state.data === undefined ? state.error === undefined && <Loading {...(what === undefined ? {} : { what })} /> : <div aria-busy={state.loading}>{children(state.data)}</div>}
    </>
  );
}

/** A short note that something is empty, with what to do about it. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}
