// The worker's queue database as plugins/queues exposes it (Sidekiq's data model: queues, the
// scheduled / retry / dead sorted sets, processes with their running jobs, per-class stats).
// Times are Unix seconds (fractions allowed).

export interface ClassStats {
  counters: Record<string, number>;
  runs: number;
  ok: number;
  failed: number;
  avg_ms: number;
  last_run_at: number | null;
}

export interface QueueStats {
  processed: number;
  failed: number;
  enqueued: number;
  scheduled_size: number;
  retry_size: number;
  dead_size: number;
  processes_size: number;
  per_day?: Array<{ date: string; processed: number; failed: number }>;
  classes?: Record<string, ClassStats>;
}

export interface QueueInfo {
  name: string;
  size: number;
  /** Seconds the oldest job has waited. */
  latency: number;
}

/** A job summary (args is compact JSON text, cut at 256 bytes). */
export interface JobRecord {
  jid: string;
  class: string;
  wrapped?: string | null;
  queue: string;
  args: string | unknown[] | null;
  retry?: unknown;
  retry_count?: number | null;
  error_class?: string | null;
  error_message?: string | null;
  created_at?: number | null;
  enqueued_at?: number | null;
  failed_at?: number | null;
  retried_at?: number | null;
  /** The set's score: when it runs (scheduled, retries) or died (dead). */
  at?: number;
  invalid?: boolean;
  raw?: string;
}

export type JobSet = 'scheduled' | 'retries' | 'dead';

export interface RunningJob {
  thread: string;
  queue: string | null;
  run_at: number | null;
  job: JobRecord | null;
}

export interface WorkerProcess {
  identity: string;
  hostname: string | null;
  pid: number | null;
  queues: string[] | null;
  concurrency: number | null;
  tag?: string | null;
  started_at: number | null;
  busy: number;
  beat: number | null;
  quiet: boolean;
  rss_kb?: number;
  rtt_us?: number;
  alive?: boolean | null;
  running: RunningJob[];
}
