// The one confirmation dialog of the app, in place of window.confirm: a labelled and described
// alertdialog, focus on the safe choice, trapped inside and returned on close, Escape cancels,
// destructive actions styled as such. useConfirm() gives an awaitable confirm() and the element.

import { useCallback, useEffect, useId, useRef, useState, type ReactElement, type ReactNode } from 'react';
import { Button } from './Button';
import { Dialog } from './Dialog';

export interface ConfirmOptions {
  title: string;
  message: ReactNode;
  /** The verb of the action ("Delete", "Revoke"): never a bare "OK". */
  confirmLabel: string;
  cancelLabel?: string;
  /** Styles the confirming button as dangerous (default true: most confirmations guard one). */
  destructive?: boolean;
}

export interface ConfirmDialogProps extends ConfirmOptions {
  open: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ open, title, message, confirmLabel, cancelLabel = 'Cancel', destructive = true, onConfirm, onCancel }: ConfirmDialogProps) {
  const messageId = useId();
  return (
    <Dialog
      open={open}
      title={title}
      onClose={onCancel}
      role="alertdialog"
      describedBy={messageId}
      footer={
        <>
          {/* First in the footer, so it takes the focus when the dialog opens. */}
          <Button variant="secondary" onClick={onCancel} data-testid="confirm-cancel">
            {cancelLabel}
          </Button>
          <Button variant={destructive ? 'danger' : 'primary'} onClick={onConfirm} data-testid="confirm-accept">
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div id={messageId} className="text-sm">
        {message}
      </div>
    </Dialog>
  );
}

export interface UseConfirm {
  /** Opens the dialog; resolves true when confirmed, false when cancelled or dismissed. */
  confirm: (options: ConfirmOptions) => Promise<boolean>;
  /** Render this once in the component that calls confirm(). */
  dialog: ReactElement | null;
}

export function useConfirm(): UseConfirm {
  const [options, setOptions] = useState<ConfirmOptions | null>(null);
  const pending = useRef<((ok: boolean) => void) | null>(null);

  const settle = useCallback((ok: boolean) => {
    const resolve = pending.current;
    pending.current = null;
    setOptions(null);
    resolve?.(ok);
  }, []);

  const confirm = useCallback((o: ConfirmOptions) => {
    // A second question replaces the first, which counts as cancelled.
    pending.current?.(false);
    return new Promise<boolean>((resolve) => {
      pending.current = resolve;
      setOptions(o);
    });
  }, []);

  // Leaving the page with the question open answers it with "no".
  useEffect(() => () => pending.current?.(false), []);

  const dialog = options ? <ConfirmDialog open {...options} onConfirm={() => settle(true)} onCancel={() => settle(false)} /> : null;
  return { confirm, dialog };
}
