// Sign-in, second factor, sign-out and the session's own profile.

import { api } from '@/shared/api/instance';
import { tokenPairFrom } from '@/shared/api/client';
import { ApiError } from '@/shared/api/types';
import type { LoginReply, Me, TokenReply } from '../types';

function keep(reply: TokenReply): void {
  api.tokens.set(tokenPairFrom(reply, null, Date.now()));
}

export const authService = {
  async login(email: string, password: string): Promise<LoginReply> {
    const { data } = await api.post<LoginReply>('/api/v1/auth/login', { email, password }, { anonymous: true });
    if (!('mfa_required' in data)) keep(data);
    return data;
  },

  async loginMfa(mfaToken: string, code: { code: string } | { recovery_code: string }): Promise<TokenReply> {
    const { data } = await api.post<TokenReply>('/api/v1/auth/login/mfa', { mfa_token: mfaToken, ...code }, { anonymous: true });
    keep(data);
    return data;
  },

  async me(): Promise<Me> {
    const { data } = await api.get<Me>('/api/v1/auth/me');
    return { ...data, roles: data.roles ?? [], permissions: data.permissions ?? [] };
  },

  /** Revoke the session on the server (when it can) and forget the tokens here. */
  async logout(): Promise<void> {
    const pair = api.tokens.get();
    try {
      if (pair) await api.post('/api/v1/auth/logout', pair.refreshToken ? { refresh_token: pair.refreshToken } : {});
    } catch (err) {
      // 404 on a server without the route, or an expired session: signing out here is enough.
      if (!(err instanceof ApiError)) throw err;
    } finally {
      api.tokens.clear();
    }
  },
};
