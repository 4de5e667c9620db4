// The worker's queue database as the server's queue routes expose it (Sidekiq's data model:
// queues, the scheduled / retry / dead sorted sets, processes with their running jobs).

export interface QueueStats {
  processed: number;
  failed: number;
  enqueued: number;
  scheduled_size: number;
  retry_size: number;
  dead_size: number;
  processes_size: number;
  workers_size: number;
  default_queue_latency?: number;
}

export interface QueueInfo {
  name: string;
  size: number;
  /** Seconds the oldest job has waited. */
  latency: number;
  paused?: boolean;
}

export interface JobRecord {
  jid: string;
  class: string;
  queue: string;
  args: unknown[];
  created_at?: number;
  enqueued_at?: number;
  /** When it runs next (scheduled, retry) or when it died (dead): epoch seconds. */
  at?: number;
  failed_at?: number;
  retry_count?: number;
  error_class?: string;
  error_message?: string;
}

export type JobSet = 'scheduled' | 'retries' | 'dead';

export interface RunningJob {
  jid: string;
  class: string;
  queue: string;
  run_at: number;
  args?: unknown[];
}

export interface WorkerProcess {
  identity: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  busy: number;
  beat: number;
  started_at: number;
  quiet?: boolean;
  stopping?: boolean;
  labels?: string[];
  version?: string;
  jobs: RunningJob[];
}

export interface JobClassStats {
  class: string;
  processed: number;
  failed: number;
  avg_ms?: number;
  p95_ms?: number;
  last_run_at?: number;
  disabled_until?: number | null;
}
