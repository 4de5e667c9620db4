// The one notification system: every success and failure message of the UI goes through
// showNotification and appears in one live region (errors as alerts).

import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '@/shared/api/types';
import { errorMessage, logger } from '@/shared/utils/logger';

export type NotificationKind = 'success' | 'error' | 'info' | 'warning';

export interface Notification {
  id: number;
  message: string;
  kind: NotificationKind;
}

interface NotificationValue {
  notifications: Notification[];
  showNotification: (message: string, kind?: NotificationKind) => void;
  /** Report a failed operation: the server's message (and first field detail) when there is one. */
  notifyError: (err: unknown, fallback?: string) => void;
  dismiss: (id: number) => void;
}

const Ctx = createContext<NotificationValue | null>(null);
const LIFETIME_MS: Record<NotificationKind, number> = { success: 4000, info: 5000, warning: 8000, error: 10000 };

export function describeError(err: unknown, fallback = 'Operation failed'): string {
  if (err instanceof ApiError) {
    const d = err.details[0];
    return d && d.message ? `${err.message} (${d.field ? `${d.field}: ` : ''}${d.message})` : err.message || fallback;
  }
  const m = errorMessage(err);
  return m || fallback;
}

export function NotificationProvider({ children }: { children: ReactNode }) {
  const [notifications, setNotifications] = useState<Notification[]>([]);
  const next = useRef(1);

  const dismiss = useCallback((id: number) => {
    setNotifications((list) => list.filter((n) => n.id !== id));
  }, []);

  const showNotification = useCallback(
    (message: string, kind: NotificationKind = 'info') => {
      const id = next.current++;
      setNotifications((list) => [...list.slice(-4), { id, message, kind }]);
      setTimeout(() => dismiss(id), LIFETIME_MS[kind]);
    },
    [dismiss],
  );

  const notifyError = useCallback(
    (err: unknown, fallback?: string) => {
      const message = describeError(err, fallback);
      logger.warn('operation failed', { message });
      showNotification(message, 'error');
    },
    [showNotification],
  );

  const value = useMemo(() => ({ notifications, showNotification, notifyError, dismiss }), [notifications, showNotification, notifyError, dismiss]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useNotifications(): NotificationValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useNotifications outside NotificationProvider');
  return v;
}

const tone: Record<NotificationKind, string> = {
  success: 'border-theme-success',
  error: 'border-theme-danger',
  info: 'border-theme-accent',
  warning: 'border-theme-warning',
};

export function NotificationRegion() {
  const { notifications, dismiss } = useNotifications();
  const polite = notifications.filter((n) => n.kind !== 'error');
  const alerts = notifications.filter((n) => n.kind === 'error');
  const render = (n: Notification) => (
    <div key={n.id} className={`pointer-events-auto flex items-start gap-3 rounded-md border-l-4 bg-theme-raised p-3 text-sm shadow-lg ${tone[n.kind]}`}>
      <p className="flex-1" data-testid={`notification-${n.kind}`}>
        {n.message}
      </p>
      <button type="button" className="btn-theme-ghost px-2 py-0" aria-label="Dismiss notification" onClick={() => dismiss(n.id)}>
        ×
      </button>
    </div>
  );
  return (
    <div className="pointer-events-none fixed bottom-12 right-4 z-50 flex w-96 max-w-[90vw] flex-col gap-2">
      <div role="status" aria-live="polite" className="flex flex-col gap-2">
        {polite.map(render)}
      </div>
      <div role="alert" aria-live="assertive" className="flex flex-col gap-2">
        {alerts.map(render)}
      </div>
    </div>
  );
}
