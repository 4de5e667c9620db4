import { describe, expect, it, vi } from 'vitest';
import { ApiClient, type FetchLike } from './client';
import { ApiError } from './types';
import { createTokenStore } from '@/shared/auth/tokenStore';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const unauthorized = (): Response => json(401, { success: false, error: 'invalid token', details: [] });

function setup(opts: { refreshToken?: string | null; refresh?: (body: unknown) => Response } = {}) {
  const tokens = createTokenStore(null);
  tokens.set({ accessToken: 'old', refreshToken: opts.refreshToken === undefined ? 'r1' : opts.refreshToken, expiresAt: 0 });
  const calls: Array<{ url: string; auth: string | null; body: unknown }> = [];
  let refreshes = 0;
  const fetchImpl = vi.fn<FetchLike>(async (url, init) => {
    const headers = new Headers(init.headers);
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : null;
    calls.push({ url, auth: headers.get('Authorization'), body });
    if (url === '/api/v1/auth/refresh') {
      refreshes += 1;
      return opts.refresh ? opts.refresh(body) : json(200, { success: true, data: { access_token: `new${refreshes}`, refresh_token: `r${refreshes + 1}`, expires_in: 900 } });
    }
    if (headers.get('Authorization')?.startsWith('Bearer new')) return json(200, { success: true, data: { ok: url } });
    return unauthorized();
  });
  const signedOut = vi.fn();
  const client = new ApiClient({ tokens, fetch: fetchImpl, onSignedOut: signedOut });
  return { client, tokens, calls, signedOut, refreshCount: () => refreshes };
}

describe('ApiClient refresh-once', () => {
  it('refreshes on 401 and retries the request once with the new token', async () => {
    const t = setup();
    const r = await t.client.get<{ ok: string }>('/api/v1/things');
    expect(r.data.ok).toBe('/api/v1/things');
    expect(t.refreshCount()).toBe(1);
    expect(t.calls.map((c) => c.auth)).toEqual(['Bearer old', null, 'Bearer new1']);
    expect(t.calls[1]?.body).toEqual({ refresh_token: 'r1' });
    expect(t.tokens.get()).toMatchObject({ accessToken: 'new1', refreshToken: 'r2' });
    expect(t.signedOut).not.toHaveBeenCalled();
  });

  it('shares one refresh between concurrent requests', async () => {
    const t = setup();
    const results = await Promise.all([t.client.get('/a'), t.client.get('/b'), t.client.get('/c')]);
    expect(results).toHaveLength(3);
    expect(t.refreshCount()).toBe(1);
  });

  it('signs out when the refresh is refused, without retrying', async () => {
    const t = setup({ refresh: () => json(401, { success: false, error: 'refresh token reused', details: [] }) });
    await expect(t.client.get('/x')).rejects.toMatchObject({ status: 401 });
    expect(t.refreshCount()).toBe(1);
    expect(t.tokens.get()).toBeNull();
    expect(t.signedOut).toHaveBeenCalledTimes(1);
    expect(t.calls.filter((c) => c.url === '/x')).toHaveLength(1);
  });

  it('signs out when the server has no refresh route (404)', async () => {
    const t = setup({ refresh: () => json(404, { success: false, error: 'not found', details: [] }) });
    await expect(t.client.get('/x')).rejects.toBeInstanceOf(ApiError);
    expect(t.signedOut).toHaveBeenCalledTimes(1);
  });

  it('signs out without calling refresh when there is no refresh token', async () => {
    const t = setup({ refreshToken: null });
    await expect(t.client.get('/x')).rejects.toMatchObject({ status: 401 });
    expect(t.refreshCount()).toBe(0);
    expect(t.signedOut).toHaveBeenCalledTimes(1);
  });

  it('does not loop when the retried request is refused again', async () => {
    const tokens = createTokenStore(null);
    tokens.set({ accessToken: 'old', refreshToken: 'r1', expiresAt: 0 });
    let n = 0;
    const fetchImpl: FetchLike = async (url) => {
      n += 1;
      if (url.endsWith('/refresh')) return json(200, { success: true, data: { access_token: 'fresh', refresh_token: 'r2' } });
      return unauthorized();
    };
    const signedOut = vi.fn();
    const client = new ApiClient({ tokens, fetch: fetchImpl, onSignedOut: signedOut });
    await expect(client.get('/x')).rejects.toMatchObject({ status: 401 });
    expect(n).toBe(3);
    expect(signedOut).toHaveBeenCalledTimes(1);
  });

  it('never refreshes for anonymous requests', async () => {
    const t = setup();
    await expect(t.client.post('/api/v1/auth/login', { email: 'a', password: 'b' }, { anonymous: true })).rejects.toMatchObject({ status: 401 });
    expect(t.refreshCount()).toBe(0);
    expect(t.calls[0]?.auth).toBeNull();
    expect(t.tokens.get()).not.toBeNull();
  });

  it('uses a token another tab already refreshed instead of refreshing again', async () => {
    const tokens = createTokenStore(null);
    tokens.set({ accessToken: 'old', refreshToken: 'r1', expiresAt: 0 });
    let refreshes = 0;
    const fetchImpl: FetchLike = async (url, init) => {
      const auth = new Headers(init.headers).get('Authorization');
      if (url.endsWith('/refresh')) {
        refreshes += 1;
        return json(200, { success: true, data: { access_token: 'new', refresh_token: 'r9' } });
      }
      if (auth === 'Bearer old') {
        // Meanwhile the other tab rotated the tokens.
        tokens.set({ accessToken: 'newOther', refreshToken: 'r5', expiresAt: 0 });
        return unauthorized();
      }
      return json(200, { success: true, data: auth });
    };
    const client = new ApiClient({ tokens, fetch: fetchImpl });
    const r = await client.get<string>('/x');
    expect(r.data).toBe('Bearer newOther');
    expect(refreshes).toBe(0);
  });

  it('turns an error envelope into an ApiError with its field details', async () => {
    const tokens = createTokenStore(null);
    const client = new ApiClient({
      tokens,
      fetch: async () => json(422, { success: false, error: 'invalid body', details: [{ field: '/email', message: 'is not an email' }] }),
    });
    const err = await client.post('/api/v1/users', { email: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(422);
    expect(e.message).toBe('invalid body');
    expect(e.fieldMessage('email')).toBe('is not an email');
  });

  it('encodes the query and skips empty values', async () => {
    const seen: string[] = [];
    const client = new ApiClient({ tokens: createTokenStore(null), fetch: async (url) => (seen.push(url), json(200, { success: true, data: 1, meta: { pagination: { page: 1 } } })) });
    const r = await client.get('/api/v1/files', { query: { q: 'a b', tag: '', page: 2, tags: ['x', 'y'], none: undefined } });
    expect(seen[0]).toBe('/api/v1/files?q=a+b&page=2&tags=x%2Cy');
    expect(r.meta.pagination?.page).toBe(1);
  });
});
