// plugins/queues: read and act on the worker's queue database. A 404 means the server runs
// without the queues plugin.

import { api } from '@/shared/api/instance';
import type { JobRecord, JobSet, QueueInfo, QueueStats, WorkerProcess } from '../types';

export const QUEUES_BASE = '/api/v1/queues';
const enc = encodeURIComponent;

export const workerService = {
  async stats(signal?: AbortSignal): Promise<QueueStats> {
    return (await api.get<QueueStats>(`${QUEUES_BASE}/stats`, signal ? { signal } : {})).data;
  },
  async queues(): Promise<QueueInfo[]> {
    return (await api.get<{ queues: QueueInfo[] }>(QUEUES_BASE)).data.queues;
  },
  async processes(): Promise<WorkerProcess[]> {
    return (await api.get<{ processes: WorkerProcess[] }>(`${QUEUES_BASE}/processes`)).data.processes;
  },
  async jobs(set: JobSet, page = 1): Promise<{ jobs: JobRecord[]; total: number | null }> {
    const r = await api.get<{ set: string; jobs: JobRecord[] }>(`${QUEUES_BASE}/${set}`, { query: { page, per_page: 50 } });
    const p = r.meta.pagination;
    return { jobs: r.data.jobs, total: p?.total ?? p?.total_count ?? null };
  },
  /** Retry now: scheduled jobs have no retry route (they run when due). */
  canRetry(set: JobSet): boolean {
    return set !== 'scheduled';
  },
  async retryNow(set: JobSet, jid: string): Promise<void> {
    await api.post(`${QUEUES_BASE}/${set}/${enc(jid)}/retry`);
  },
  async remove(set: JobSet, jid: string): Promise<void> {
    await api.delete(`${QUEUES_BASE}/${set}/${enc(jid)}`);
  },
};

/** Busy threads across processes (the stats route has no such total). */
export function busyOf(processes: readonly WorkerProcess[]): number {
  return processes.reduce((n, p) => n + (p.busy || 0), 0);
}

export function argsText(args: JobRecord['args']): string {
  if (args === null || args === undefined) return '';
  return typeof args === 'string' ? args : JSON.stringify(args);
}
