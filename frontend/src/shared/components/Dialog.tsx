// A modal dialog: labelled, focus moved inside on open and back on close, Escape closes, Tab
// stays inside.

import { useEffect, useId, useLayoutEffect, useRef, type ReactNode } from 'react';

export interface DialogProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  /** 'alertdialog' for a question that interrupts the user (a confirmation). */
  role?: 'dialog' | 'alertdialog';
  /** Id of the element that describes the dialog (aria-describedby). */
  describedBy?: string;
}

const FOCUSABLE = 'input, select, textarea, button, [href], [tabindex]:not([tabindex="-1"])';

export function Dialog({ open, title, onClose, children, footer, wide = false, role = 'dialog', describedBy }: DialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  // Callers pass a new onClose each render; the focus set-up must run once per opening, or
  // every re-render (a keystroke in a field) would move focus back to the first field.
  const close = useRef(onClose);
  useLayoutEffect(() => {
    close.current = onClose;
  });
  useEffect(() => {
    if (!open) return undefined;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const node = ref.current;
    const first = node?.querySelector<HTMLElement>('input, select, textarea, button:not([data-dialog-close]), [href], [tabindex]:not([tabindex="-1"])');
    (first ?? node)?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        close.current();
      } else if (e.key === 'Tab' && node) {
        const items = [...node.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hasAttribute('disabled'));
        if (items.length === 0) return;
        const firstItem = items[0];
        const lastItem = items[items.length - 1];
        const inside = node.contains(document.activeElement);
        if (e.shiftKey && (document.activeElement === firstItem || !inside)) {
          e.preventDefault();
          lastItem?.focus();
        } else if (!e.shiftKey && (document.activeElement === lastItem || !inside)) {
          e.preventDefault();
          firstItem?.focus();
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (before?.isConnected) before.focus();
    };
  }, [open]);
  if (!open) return null;
  return (
    <div className="fixed inset-0 z-40 flex items-center justify-center bg-black/50 p-4">
      <div ref={ref} role={role} aria-modal="true" aria-labelledby={titleId} aria-describedby={describedBy} tabIndex={-1} className={`max-h-[90vh] w-full overflow-auto rounded-lg bg-theme-surface p-5 shadow-xl ${wide ? 'max-w-3xl' : 'max-w-lg'}`}>
        <div className="mb-4 flex items-center justify-between">
          <h2 id={titleId} className="text-lg font-semibold">
            {title}
          </h2>
          <button type="button" data-dialog-close className="btn-theme-ghost" aria-label="Close dialog" onClick={onClose}>
            ×
          </button>
        </div>
        <div className="flex flex-col gap-3">{children}</div>
        {footer ? <div className="mt-5 flex justify-end gap-2">{footer}</div> : null}
      </div>
    </div>
  );
}
