import { describe, expect, it } from 'vitest';
import { ApiClient, type FetchLike } from '@/shared/api/client';
import { createTokenStore } from '@/shared/auth/tokenStore';
import { EventStream, type LiveEvent } from './eventStream';

function sse(text: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      const bytes = new TextEncoder().encode(text);
      // Split mid-line to exercise the parser through the stream.
      c.enqueue(bytes.slice(0, 7));
      c.enqueue(bytes.slice(7));
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

const wrap = (id: string, type: string, data: unknown): string => `id: ${id}\ndata: ${JSON.stringify({ channel: 'files.files', type, data })}\n\n`;

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('EventStream', () => {
  it('sends the bearer token and channels, and resumes with Last-Event-ID after the stream ends', async () => {
    const tokens = createTokenStore(null);
    tokens.set({ accessToken: 'tok', refreshToken: null, expiresAt: 0 });
    const requests: Array<{ url: string; auth: string | null; last: string | null }> = [];
    const fetchImpl: FetchLike = async (url, init) => {
      const h = new Headers(init.headers);
      requests.push({ url, auth: h.get('Authorization'), last: h.get('Last-Event-ID') });
      if (requests.length === 1) return sse('retry: 10\n: connected\n\n' + wrap('1-0', 'file.uploaded', { id: 'a' }) + wrap('2-0', 'file.deleted', { id: 'b' }));
      if (requests.length === 2) return new Response('no', { status: 503 });
      if (requests.length === 3) return sse(wrap('3-0', 'file.restored', { id: 'b' }));
      return new Promise<Response>(() => undefined);
    };
    const stream = new EventStream({ client: new ApiClient({ tokens, fetch: fetchImpl }), backoffScale: 0 });
    const got: LiveEvent[] = [];
    const unsubscribe = stream.subscribe('files.files', (e) => got.push(e));
    await until(() => got.length === 3 && requests.length >= 4);
    stream.close();
    unsubscribe();
    expect(got.map((e) => e.type)).toEqual(['file.uploaded', 'file.deleted', 'file.restored']);
    expect(requests[0]).toEqual({ url: '/api/v1/events?channels=files.files', auth: 'Bearer tok', last: null });
    expect(requests[1]?.last).toBe('2-0');
    expect(requests[2]?.last).toBe('2-0');
    expect(requests[3]?.last).toBe('3-0');
  });

  it('reports "unavailable" when the server has no event stream', async () => {
    const tokens = createTokenStore(null);
    tokens.set({ accessToken: 'tok', refreshToken: null, expiresAt: 0 });
    const stream = new EventStream({ client: new ApiClient({ tokens, fetch: async () => new Response('{}', { status: 404 }) }), backoffScale: 0.0001 });
    const states: string[] = [];
    stream.onState((s) => states.push(s));
    const off = stream.subscribe('audit', () => undefined);
    await until(() => states.includes('unavailable'));
    stream.close();
    off();
    expect(states).toContain('connecting');
  });

  it('stops when the session ends (401 that no refresh can fix)', async () => {
    const tokens = createTokenStore(null);
    tokens.set({ accessToken: 'tok', refreshToken: null, expiresAt: 0 });
    let n = 0;
    const stream = new EventStream({
      client: new ApiClient({
        tokens,
        fetch: async () => {
          n += 1;
          return new Response(JSON.stringify({ success: false, error: 'expired', details: [] }), { status: 401, headers: { 'Content-Type': 'application/json' } });
        },
      }),
      backoffScale: 0,
    });
    const states: string[] = [];
    stream.onState((s) => states.push(s));
    stream.subscribe('audit', () => undefined);
    await until(() => states.includes('closed'));
    expect(n).toBe(1);
    expect(tokens.get()).toBeNull();
  });
});
