import { api } from '@/shared/api/instance';
import { tokenPairFrom } from '@/shared/api/client';
import type { ApiKey, PermissionCategory, TotpSetup } from '../types';

export const profileService = {
  async changePassword(current: string, next: string): Promise<void> {
    const pair = api.tokens.get();
    // Sending our refresh token keeps this session while the others are signed out.
    const body: Record<string, string> = { current_password: current, new_password: next };
    if (pair?.refreshToken) body.refresh_token = pair.refreshToken;
    const r = await api.post<{ access_token?: string; refresh_token?: string; expires_in?: number }>('/api/v1/auth/password', body);
    if (r.data && typeof r.data.access_token === 'string') {
      api.tokens.set(tokenPairFrom({ access_token: r.data.access_token, ...(r.data.refresh_token ? { refresh_token: r.data.refresh_token } : {}), ...(r.data.expires_in ? { expires_in: r.data.expires_in } : {}) }, pair?.refreshToken ?? null, Date.now()));
    }
  },
  async totpSetup(): Promise<TotpSetup> {
    return (await api.post<TotpSetup>('/api/v1/auth/totp/setup', {})).data;
  },
  async totpEnable(code: string): Promise<string[]> {
    return (await api.post<{ enabled: boolean; recovery_codes?: string[] }>('/api/v1/auth/totp/enable', { code })).data.recovery_codes ?? [];
  },
  async totpDisable(password: string, code: string): Promise<void> {
    const second = /^[0-9]{6}$/.test(code) ? { code } : { recovery_code: code };
    await api.post('/api/v1/auth/totp/disable', { password, ...second });
  },
  async apiKeys(): Promise<ApiKey[]> {
    return (await api.get<ApiKey[]>('/api/v1/api_keys')).data;
  },
  async createApiKey(name: string, permissions: string[], expiresAt: string | null): Promise<ApiKey> {
    const body: Record<string, unknown> = { name, permissions };
    if (expiresAt) body.expires_at = expiresAt;
    return (await api.post<ApiKey>('/api/v1/api_keys', body)).data;
  },
  async revokeApiKey(id: string): Promise<void> {
    await api.delete(`/api/v1/api_keys/${encodeURIComponent(id)}`);
  },
  async permissionRegistry(): Promise<PermissionCategory[]> {
    return (await api.get<PermissionCategory[]>('/api/v1/permissions')).data;
  },
};
