/**
 * The dashboard: asks the gateway who is signed in, shows the sign-in page or the page the hash
 * names. Pages other than the overview load on first visit, so the first paint carries only React,
 * the frame and the overview.
 */
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import type { ComponentType } from 'react';
import { apiPath, setUnauthenticatedHandler } from './api/client.ts';
import { prefetch } from './api/prefetch.ts';
import { forgetScopes } from './api/scopes.ts';
import type { Principal } from './api/types.ts';
import { Shell } from './components/shell.tsx';
import { ErrorNotice, Loading } from './components/status.tsx';
import { NAV } from './nav.ts';
import { LandingPage } from './pages/landing.tsx';
import { NotFoundPage } from './pages/not-found.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { parseHash, useRoute } from './router.ts';
import type { Route } from './router.ts';
import type { SessionValue } from './session.tsx';
import { endSession, forgetSession, readSession, remembered, SessionContext } from './session.tsx';

type PageProps = { route: Route };

function page<K extends string>(load: () => Promise<Record<K, ComponentType<PageProps>>>, name: K) {
  return lazy(async () => ({ default: (await load())[name] }));
}

const PAGES: Record<string, ComponentType<PageProps>> = {
  rollout: page(() => import('./pages/rollout.tsx'), 'RolloutPage'),
  overview: OverviewPage,
  explore: page(() => import('./pages/explore.tsx'), 'ExplorePage'),
  calls: page(() => import('./pages/calls.tsx'), 'CallsPage'),
  budgets: page(() => import('./pages/budgets-keys.tsx'), 'BudgetsKeysPage'),
  showback: page(() => import('./pages/showback.tsx'), 'ShowbackPage'),
  chargeback: page(() => import('./pages/chargeback.tsx'), 'ChargebackPage'),
  'unit-economics': page(() => import('./pages/unit-economics.tsx'), 'UnitEconomicsPage'),
  forecast: page(() => import('./pages/forecast.tsx'), 'ForecastPage'),
  routing: page(() => import('./pages/routing.tsx'), 'RoutingPage'),
  anomalies: page(() => import('./pages/anomalies.tsx'), 'AnomaliesPage'),
  reconciliation: page(() => import('./pages/reconciliation.tsx'), 'ReconciliationPage'),
};

// The first paint waits on the network, not on React: the session and the landing page's data are
// asked for as soon as this module runs, in parallel.
const firstSession = readSession();
if (remembered()) {
  const first = parseHash(window.location.hash);
  const name = first.segments[0] ?? '';
  if (name === '' || name === 'overview') prefetch(apiPath('/api/overview', { scope: first.params.get('scope') ?? '' }));
  if (name === '') prefetch('/api/rollout');
}

export function App() {
  const [principal, setPrincipal] = useState<Principal | null | 'unknown'>('unknown');
  const [notice, setNotice] = useState<string | null>(null);
  const [bootError, setBootError] = useState<Error | null>(null);

  useEffect(() => {
    setUnauthenticatedHandler((err) => {
      forgetSession();
      forgetScopes();
      setNotice(err.message);
      setPrincipal(null);
    });
    firstSession.then(setPrincipal, (err: unknown) => setBootError(err instanceof Error ? err : new Error(String(err))));
  }, []);

  const signOut = useCallback(() => {
    void endSession().finally(() => {
      forgetScopes();
      // The next person to sign in starts at the beginning, not on the last page of the one before.
      window.history.replaceState(null, '', '#/');
      setNotice('Signed out.');
      setPrincipal(null);
    });
  }, []);

  const session = useMemo<SessionValue | null>(() => {
    if (principal === 'unknown' || principal === null) return null;
    return { principal, isAdmin: principal.kind === 'admin', viewerScope: principal.kind === 'viewer' ? principal.scope.path : null, signOut };
  }, [principal, signOut]);

  if (bootError !== null) {
    return (
      <main className="signin" id="main">
        <ErrorNotice error={bootError} title="The dashboard cannot reach the gateway" />
      </main>
    );
  }
  if (principal === 'unknown') return <Loading what="Opening the dashboard" />;
  if (session === null) {
    return (
      <SignInPage
        notice={notice}
        onSignedIn={(p) => {
          forgetScopes();
          setNotice(null);
          setPrincipal(p);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Routed isAdmin={session.isAdmin} />
    </SessionContext.Provider>
  );
}

function Routed({ isAdmin }: { isAdmin: boolean }) {
  const route = useRoute();
  const name = route.segments[0] ?? '';
  const Page = PAGES[name];
  const adminOnly = NAV.find((n) => n.path === name)?.admin === true;
  let body;
  if (name === '') body = <LandingPage />;
  else if (Page === undefined) body = <NotFoundPage />;
  else if (adminOnly && !isAdmin) body = <NotFoundPage adminOnly />;
  else body = <Page route={route} />;
  return (
    <Shell current={name}>
      <Suspense fallback={<Loading />}>{body}</Suspense>
    </Shell>
  );
}
