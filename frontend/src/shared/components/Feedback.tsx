// Loading, empty, "not available" and status markers.

import type { ReactNode } from 'react';

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <div role="status" className="flex items-center gap-2 py-6 text-sm text-theme-muted">
      <span className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-theme-muted border-t-transparent" aria-hidden="true" />
      {label}…
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-theme-border p-8 text-center">
      <p className="font-medium">{title}</p>
      {children ? <div className="mt-2 text-sm text-theme-muted">{children}</div> : null}
    </div>
  );
}

export function NotAvailable({ what }: { what: string }) {
  return (
    <div className="rounded-lg border border-theme-warning bg-theme-surface p-6" data-testid="not-available">
      <p className="font-medium">{what} is not available on this server.</p>
      <p className="mt-1 text-sm text-theme-muted">The server does not offer this API yet (it answered 404). This page starts working as soon as it does.</p>
    </div>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'neutral';

const toneClass: Record<Tone, string> = {
  ok: 'border-theme-success text-theme-success',
  warn: 'border-theme-warning text-theme-warning',
  bad: 'border-theme-danger text-theme-danger',
  neutral: 'border-theme-border text-theme-muted',
};

export function StatusBadge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`inline-flex items-center gap-1 rounded-full border bg-theme-surface px-2 py-0.5 text-xs font-medium ${toneClass[tone]}`}>{children}</span>;
}

export function toneOf(status: string | null | undefined): Tone {
  switch ((status ?? '').toLowerCase()) {
    case 'ok':
    case 'ready':
    case 'active':
    case 'applied':
    case 'completed':
    case 'success':
    case 'healthy':
    case 'up':
      return 'ok';
    case 'pending':
    case 'processing':
    case 'degraded':
    case 'invited':
    case 'busy':
    case 'quiet':
      return 'warn';
    case 'failed':
    case 'failure':
    case 'denied':
    case 'error':
    case 'down':
    case 'disabled':
    case 'revoked':
    case 'unavailable':
      return 'bad';
    default:
      return 'neutral';
  }
}
