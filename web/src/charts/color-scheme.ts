import { useSyncExternalStore } from 'react';

const query = '(prefers-color-scheme: dark)';

function subscribe(onChange: () => void): () => void {
  const m = window.matchMedia(query);
  m.addEventListener('change', onChange);
  return () => m.removeEventListener('change', onChange);
}

/** True while the system asks for dark colours; follows changes live. */
export function usePrefersDark(): boolean {
  return useSyncExternalStore(subscribe, () => window.matchMedia(query).matches);
}
