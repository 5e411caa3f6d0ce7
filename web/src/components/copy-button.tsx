import { useState } from 'react';

/** Copies a text (a new key, a command) and says so. */
/** `what` names the thing copied for screen readers when several copy buttons share a page. */
export function CopyButton({ text, label = 'Copy', what, testId }: { text: string; label?: string; what?: string; testId?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      // Clipboard access can be refused (insecure origin, permissions): the text stays selectable.
      setState('failed');
    }
  }
  return (
    <>
      <button type="button" onClick={() => void copy()} data-testid={testId} aria-label={what === undefined ? undefined : `${label}: ${what}`}>
        {label}
      </button>
      <span className="copy-state" role="status" aria-live="polite">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy refused by the browser: select the text and copy it' : ''}
      </span>
    </>
  );
}
