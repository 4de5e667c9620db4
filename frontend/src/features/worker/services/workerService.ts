// The server's read-and-act routes over the worker's queue database. The routes are being
// written (worker issue, server side): every path is here, in one place, and a 404 means
// "this server has no queue routes yet".

import { api } from '@/shared/api/instance';
import type { JobClassStats, JobRecord, JobSet, QueueInfo, QueueStats, WorkerProcess } from '../types';

export const QUEUES_BASE = '/api/v1/queues';

export const workerService = {
  async stats(signal?: AbortSignal): Promise<QueueStats> {
    return (await api.get<QueueStats>(`${QUEUES_BASE}/stats`, signal ? { signal } : {})).data;
  },
  async queues(): Promise<QueueInfo[]> {
    return (await api.get<QueueInfo[]>(QUEUES_BASE)).data;
  },
  async processes(): Promise<WorkerProcess[]> {
    return (await api.get<WorkerProcess[]>(`${QUEUES_BASE}/processes`)).data;
  },
  async jobs(set: JobSet, page = 1): Promise<{ jobs: JobRecord[]; total: number | null }> {
    const r = await api.get<JobRecord[]>(`${QUEUES_BASE}/${set}`, { query: { page, per_page: 50 } });
    return { jobs: r.data, total: r.meta.pagination?.total ?? null };
  },
  async jobClasses(): Promise<JobClassStats[]> {
    return (await api.get<JobClassStats[]>(`${QUEUES_BASE}/job_classes`)).data;
  },
  async retryNow(set: JobSet, jid: string): Promise<void> {
    await api.post(`${QUEUES_BASE}/${set}/${encodeURIComponent(jid)}/retry`);
  },
  async remove(set: JobSet, jid: string): Promise<void> {
    await api.delete(`${QUEUES_BASE}/${set}/${encodeURIComponent(jid)}`);
  },
};
