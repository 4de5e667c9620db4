import { api } from '@/shared/api/instance';
import type { Pagination } from '@/shared/api/types';
import type { AuditEntry, AuditFilters } from '../types';

export const auditService = {
  async list(filters: AuditFilters, signal?: AbortSignal): Promise<{ entries: AuditEntry[]; pagination: Pagination | undefined }> {
    const r = await api.get<AuditEntry[]>('/api/v1/audit_logs', { query: { ...filters }, ...(signal ? { signal } : {}) });
    return { entries: r.data, pagination: r.meta.pagination };
  },
};

/** The channel the server publishes audit rows on. */
export const AUDIT_CHANNEL = 'audit';
