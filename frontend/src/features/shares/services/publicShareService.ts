// The public share route: no sign-in; the password goes in the JSON body. Each successful
// request counts as one download, so the page asks only when the user clicks Download.

import { asEnvelope } from '@/shared/api/types';

export type ShareOutcome =
  | { kind: 'file'; blob: Blob; filename: string }
  | { kind: 'password'; message: string }
  | { kind: 'gone'; message: string }
  | { kind: 'error'; message: string; retryAfter?: string };

export function filenameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // fall through
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain?.[1] ?? fallback;
}

export async function fetchShare(token: string, password: string | null): Promise<ShareOutcome> {
  const res = await fetch(`/api/v1/public/shares/${encodeURIComponent(token)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(password ? { password } : {}),
    credentials: 'omit',
  });
  if (res.ok) return { kind: 'file', blob: await res.blob(), filename: filenameFrom(res.headers.get('Content-Disposition'), 'download') };
  let message = `HTTP ${res.status}`;
  try {
    const env = asEnvelope(await res.json());
    if (env && !env.success) message = env.error;
  } catch {
    // not JSON
  }
  if (res.status === 401) return { kind: 'password', message };
  if (res.status === 404 || res.status === 410) return { kind: 'gone', message };
  const retry = res.headers.get('Retry-After');
  return retry ? { kind: 'error', message, retryAfter: retry } : { kind: 'error', message };
}
