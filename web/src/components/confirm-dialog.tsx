/**
 * A modal confirmation: a native <dialog> opened with showModal() (the rest of the page is inert),
 * Tab kept inside it, Escape or Cancel closes it, focus returns to what opened it. The confirm
 * action may fail: its error is shown in the dialog and the dialog stays open.
 */
import { useEffect, useRef, useState } from 'react';
import type { FormEvent, KeyboardEvent, ReactNode } from 'react';
import { ErrorNotice } from './status.tsx';

interface Props {
  title: string;
  /** Label of the confirming button, e.g. "Kill acme/eng". */
  confirmLabel: string;
  danger?: boolean;
  /** Resolves when done (the dialog closes); rejects with an error to show. */
  onConfirm: () => Promise<void>;
  onClose: () => void;
  /** Disables the confirm button (e.g. a required reason is empty). */
  canConfirm?: boolean;
  children?: ReactNode;
}

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function ConfirmDialog({ title, confirmLabel, danger = false, onConfirm, onClose, canConfirm = true, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    const d = ref.current;
    if (d === null) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!d.open) d.showModal();
    // The first field (a reason) if there is one, else Cancel: never the destructive button.
    const first = d.querySelector<HTMLElement>('input, textarea, select') ?? d.querySelector<HTMLElement>('[data-cancel]');
    first?.focus();
    return () => {
      if (d.open) d.close();
      opener?.focus();
    };
  }, []);

  function trapTab(e: KeyboardEvent<HTMLDialogElement>) {
    if (e.key !== 'Tab') return;
    const items = [...(ref.current?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? [])];
    const first = items[0];
    const last = items[items.length - 1];
    if (first === undefined || last === undefined) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  async function confirm(e: FormEvent) {
    e.preventDefault();
    if (busy || !canConfirm) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      setBusy(false);
    }
  }

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="confirm-title"
      data-testid="confirm-dialog"
      onKeyDown={trapTab}
      onCancel={(e) => {
        // Escape: close through React state so the opener gets focus back.
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form onSubmit={(e) => void confirm(e)}>
        <h2 id="confirm-title">{title}</h2>
        {children}
        <ErrorNotice error={error} />
        <div className="dialog-actions">
          <button type="button" data-cancel data-testid="confirm-cancel" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className={danger ? 'danger' : 'primary'} data-testid="confirm-ok" disabled={busy || !canConfirm}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
