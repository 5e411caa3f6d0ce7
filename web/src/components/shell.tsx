/**
 * The frame of every signed-in page: navigation in a sidebar (a menu button on phones), who is
 * signed in, and the page in <main>.
 */
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { NAV } from '../nav.ts';
import { href } from '../router.ts';
import { useSession } from '../session.tsx';

export function Shell({ current, children }: { current: string; children: ReactNode }) {
  const session = useSession();
  const [open, setOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const items = NAV.filter((n) => !n.admin || session.isAdmin);

  // A new page: close the phone menu and put focus at the page's start for keyboard and screen readers.
  useEffect(() => {
    setOpen(false);
  }, [current]);

  return (
    <div className="shell">
      <button type="button" className="skip" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header className="sidebar">
        <div className="brand-row">
          <a className="brand" href={href('overview')}>
            Tollgate
          </a>
          <button type="button" className="menu-toggle" aria-expanded={open} aria-controls="main-nav" onClick={() => setOpen((o) => !o)} data-testid="menu-toggle">
            Menu
          </button>
        </div>
        <nav id="main-nav" aria-label="Main" className={open ? 'open' : undefined}>
          <ul>
            {items.map((n) => (
              <li key={n.path}>
                <a href={href(n.path)} aria-current={current === n.path ? 'page' : undefined} data-testid={`nav-${n.path}`}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
          <div className="who">
            <p data-testid="signed-in-as">
              {session.principal.kind === 'admin' ? (
                <>Signed in as <strong>admin</strong></>
              ) : (
                <>
                  Viewer <strong>{session.principal.display}</strong> of <strong>{session.principal.scope.path}</strong> (read only)
                </>
              )}
            </p>
            <button type="button" onClick={session.signOut} data-testid="signout">
              Sign out
            </button>
          </div>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
