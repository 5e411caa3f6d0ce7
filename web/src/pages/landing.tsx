import { useEffect } from 'react';
import { apiGet } from '../api/client.ts';
import { takePrefetched } from '../api/prefetch.ts';
import type { Rollout } from '../api/types.ts';
import { Loading } from '../components/status.tsx';
import { parseHash } from '../router.ts';

/**
 * `#/`: a new organisation (fewer than half of the rollout steps done) starts on Rollout status,
 * everyone else on the Overview. Replaces the history entry, so Back does not bounce here.
 */
export function LandingPage() {
  useEffect(() => {
    const ctl = new AbortController();
    // Someone may have gone elsewhere while this page waited (it stays mounted while the next page's code loads).
    const go = (to: string) => {
      if (!ctl.signal.aborted && parseHash(window.location.hash).segments.length === 0) window.location.replace(to);
    };
    (takePrefetched<Rollout>('/api/rollout') ?? apiGet<Rollout>('/api/rollout', ctl.signal)).then(
      (r) => {
        const done = r.steps.filter((s) => s.done).length;
        go(done * 2 < r.steps.length ? '#/rollout' : '#/overview');
      },
      () => go('#/overview'),
    );
    return () => ctl.abort();
  }, []);
  return <Loading />;
}
