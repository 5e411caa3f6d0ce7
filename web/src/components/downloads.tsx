import { apiPath } from '../api/client.ts';

/**
 * A file the gateway streams (CSV): a plain link, so the browser downloads it with the session
 * cookie and shows its own progress; nothing is buffered in the page.
 */
export function DownloadLink({ path, params, children, testId }: { path: string; params: Record<string, string | undefined>; children: string; testId: string }) {
  return (
    <a className="button" href={apiPath(path, params)} download data-testid={testId}>
      {children}
    </a>
  );
}

/** The FOCUS 1.2 export of a period (whole UTC days, `to` not included). */
export function FocusLink({ from, to, scope }: { from: string; to: string; scope?: string }) {
  return (
    <DownloadLink path="/api/export/focus" params={{ from, to, scope }} testId="focus-download">
      FOCUS CSV
    </DownloadLink>
  );
}
