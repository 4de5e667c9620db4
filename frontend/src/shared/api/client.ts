// The API client: JSON in and out through the envelope, the bearer token on every call, and on
// a 401 one token refresh (shared by every request waiting on it, serialised across tabs) and
// one retry. When the refresh fails, or the server has no refresh route, the session ends.

import { logger } from '@/shared/utils/logger';
import type { TokenPair, TokenStore } from '@/shared/auth/tokenStore';
import { ApiError, asEnvelope, type ApiMeta, type ApiResult, type Query } from './types';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Send without the bearer token (sign-in, refresh, public share routes). */
  anonymous?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface RefreshReply {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  baseUrl?: string;
  fetch?: FetchLike;
  tokens: TokenStore;
  /** Called once when the session ended (refresh failed or was impossible). */
  onSignedOut?: (reason: string) => void;
  /** Runs fn while holding a lock shared by every tab (Web Locks); defaults to no lock. */
  withLock?: <T>(fn: () => Promise<T>) => Promise<T>;
  now?: () => number;
}

export const REFRESH_PATH = '/api/v1/auth/refresh';

export function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) {
      if (v.length > 0) p.set(k, v.join(','));
    } else {
      p.set(k, String(v));
    }
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function tokenPairFrom(reply: RefreshReply, previousRefresh: string | null, now: number): TokenPair {
  return {
    accessToken: reply.access_token,
    refreshToken: reply.refresh_token ?? previousRefresh,
    expiresAt: reply.expires_in ? now + reply.expires_in * 1000 : 0,
  };
}

export function webLocks(): (<T>(fn: () => Promise<T>) => Promise<T>) | undefined {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return undefined;
  return <T,>(fn: () => Promise<T>) => locks.request('powernode.refresh', () => fn()) as Promise<T>;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly doFetch: FetchLike;
  readonly tokens: TokenStore;
  private readonly onSignedOut: (reason: string) => void;
  private readonly withLock: <T>(fn: () => Promise<T>) => Promise<T>;
  private readonly now: () => number;
  private refreshing: Promise<boolean> | null = null;

  constructor(opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl ?? '';
    this.doFetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.tokens = opts.tokens;
    this.onSignedOut = opts.onSignedOut ?? (() => undefined);
    this.withLock = opts.withLock ?? ((fn) => fn());
    this.now = opts.now ?? (() => Date.now());
  }

  url(path: string, query?: Query): string {
    return `${this.baseUrl}${path}${buildQuery(query)}`;
  }

  get<T>(path: string, opts: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('GET', path, opts);
  }
  post<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('POST', path, { ...opts, body });
  }
  put<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('PUT', path, { ...opts, body });
  }
  patch<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('PATCH', path, { ...opts, body });
  }
  delete<T>(path: string, opts: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('DELETE', path, opts);
  }

  /** A JSON request through the envelope; throws ApiError on failure. */
  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<ApiResult<T>> {
    const res = await this.send(method, path, opts);
    return this.decode<T>(res);
  }

  /**
   * The raw Response with authentication and the refresh-once rule applied (for downloads,
   * streams and non-JSON bodies). Non-2xx responses are returned, not thrown, except that a
   * 401 that survives the refresh ends the session.
   */
  async send(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<Response> {
    const first = this.tokens.get();
    let res = await this.once(method, path, opts, first);
    if (res.status !== 401 || opts.anonymous || !first) return res;

    const refreshed = await this.refreshAfter(first);
    if (!refreshed) {
      this.endSession('refresh failed');
      return res;
    }
    res = await this.once(method, path, opts, this.tokens.get());
    if (res.status === 401) {
      // A fresh token refused again: the user or the session is gone, not the token.
      this.endSession('refused after refresh');
    }
    return res;
  }

  /**
   * Refresh because `stale` was refused. Concurrent callers share one refresh; if another
   * request (or tab) already replaced `stale`, no new refresh is made.
   */
  refreshAfter(stale: TokenPair | null): Promise<boolean> {
    const current = this.tokens.get();
    if (current && stale && current.accessToken !== stale.accessToken) return Promise.resolve(true);
    if (!this.refreshing) {
      this.refreshing = this.withLock(() => this.doRefresh(stale)).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(stale: TokenPair | null): Promise<boolean> {
    const pair = this.tokens.get();
    if (!pair) return false;
    // Another tab refreshed while this one waited for the lock.
    if (stale && pair.accessToken !== stale.accessToken) return true;
    if (!pair.refreshToken) {
      logger.info('no refresh token: session cannot be renewed');
      return false;
    }
    let res: Response;
    try {
      res = await this.doFetch(this.url(REFRESH_PATH), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refresh_token: pair.refreshToken }),
        credentials: 'same-origin',
      });
    } catch (err) {
      logger.warn('token refresh failed: network', { error: String(err) });
      return false;
    }
    if (!res.ok) {
      logger.info('token refresh refused', { status: res.status });
      return false;
    }
    try {
      const env = asEnvelope(await res.json());
      if (!env || !env.success) return false;
      const data = env.data as RefreshReply;
      if (typeof data.access_token !== 'string') return false;
      this.tokens.set(tokenPairFrom(data, pair.refreshToken, this.now()));
      logger.debug('access token refreshed');
      return true;
    } catch {
      return false;
    }
  }

  private endSession(reason: string): void {
    if (this.tokens.get() === null) return;
    logger.info('signed out', { reason });
    this.tokens.clear();
    this.onSignedOut(reason);
  }

  private once(method: HttpMethod, path: string, opts: RequestOptions, pair: TokenPair | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
    let body: BodyInit | undefined;
    if (opts.body !== undefined) {
      if (typeof FormData !== 'undefined' && opts.body instanceof FormData) {
        body = opts.body;
      } else if (typeof Blob !== 'undefined' && opts.body instanceof Blob) {
        body = opts.body;
      } else {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(opts.body);
      }
    }
    if (!opts.anonymous && pair) headers.Authorization = `Bearer ${pair.accessToken}`;
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) init.body = body;
    if (opts.signal) init.signal = opts.signal;
    return this.doFetch(this.url(path, opts.query), init);
  }

  private async decode<T>(res: Response): Promise<ApiResult<T>> {
    if (res.status === 204) return { data: undefined as T, meta: {}, status: 204, headers: res.headers };
    let doc: unknown = null;
    const type = res.headers.get('Content-Type') ?? '';
    if (type.includes('json')) {
      try {
        doc = await res.json();
      } catch {
        doc = null;
      }
    }
    const env = asEnvelope(doc);
    if (res.ok && env && env.success) {
      const meta: ApiMeta = env.meta ?? {};
      return { data: env.data as T, meta, status: res.status, headers: res.headers };
    }
    if (env && !env.success) throw new ApiError(res.status, env.error, env.details, res.headers);
    throw new ApiError(res.status, res.ok ? 'The server answered without an envelope' : `HTTP ${res.status}`, [], res.headers);
  }
}
