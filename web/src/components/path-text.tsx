import { Fragment } from 'react';

/** A scope path that may break after each "/" on a narrow screen, and nowhere else. */
export function PathText({ path }: { path: string }) {
  const parts = path.split('/');
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={i}>
          {i > 0 && (
            <>
              /<wbr />
            </>
          )}
          {p}
        </Fragment>
      ))}
    </>
  );
}
