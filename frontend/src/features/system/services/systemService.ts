// Server health and the loaded plugins.

import { api } from '@/shared/api/instance';
import { ApiError } from '@/shared/api/types';
import type { HealthReply, PluginInfo, ReadyReply } from '../types';

export const systemService = {
  async health(): Promise<HealthReply> {
    return (await api.get<HealthReply>('/health', { anonymous: true })).data;
  },
  /** /ready answers 503 with the same shape when a check fails; keep its checks. */
  async ready(): Promise<ReadyReply> {
    const res = await api.send('GET', '/ready', { anonymous: true });
    let doc: unknown = null;
    try {
      doc = await res.json();
    } catch {
      doc = null;
    }
    const o = doc as { success?: boolean; data?: ReadyReply; error?: string; details?: Array<{ field: string; message: string }> } | null;
    if (o?.data && typeof o.data.status === 'string') return { status: o.data.status, checks: o.data.checks ?? {} };
    if (o && o.success === false) {
      const checks: Record<string, string> = {};
      for (const d of o.details ?? []) checks[d.field] = d.message;
      return { status: 'not ready', checks };
    }
    throw new ApiError(res.status, `HTTP ${res.status}`);
  },
  async plugins(): Promise<{ plugins: PluginInfo[]; meta: Record<string, unknown> }> {
    const r = await api.get<PluginInfo[]>('/api/v1/system/plugins');
    return { plugins: r.data, meta: r.meta };
  },
};
