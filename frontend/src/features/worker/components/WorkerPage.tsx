// Worker and queues, Sidekiq-style: totals, queues with size and latency, scheduled / retry /
// dead jobs (retry now, delete), processes with their running jobs, per-job-class stats.
// Refreshed every few seconds while open; "not available" while the server has no queue routes.

import { useEffect, useState } from 'react';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { useAsync } from '@/shared/hooks/useAsync';
import { PageContainer, Section } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { EmptyState, Loading, NotAvailable, StatusBadge } from '@/shared/components/Feedback';
import { formatDate, formatDuration } from '@/shared/utils/format';
import { argsText, busyOf, workerService } from '../services/workerService';
import type { JobRecord, JobSet } from '../types';

const REFRESH_MS = 5000;
const tabs: Array<{ id: JobSet; label: string }> = [
  { id: 'scheduled', label: 'Scheduled' },
  { id: 'retries', label: 'Retries' },
  { id: 'dead', label: 'Dead' },
];

function epoch(s: number | null | undefined): string {
  return s ? formatDate(s) : '—';
}

function JobTable({ set, jobs, onAction, manage }: { set: JobSet; jobs: JobRecord[]; onAction: (a: 'retry' | 'delete', j: JobRecord) => void; manage: boolean }) {
  if (jobs.length === 0) return <EmptyState title={`No ${set} jobs`} />;
  return (
    <table className="w-full text-left text-sm" data-testid={`jobs-${set}`}>
      <caption className="sr-only">{set} jobs</caption>
      <thead className="text-theme-muted">
        <tr>
          <th scope="col">{set === 'dead' ? 'Died' : 'Runs at'}</th>
          <th scope="col">Class</th>
          <th scope="col">Queue</th>
          <th scope="col">Arguments</th>
          {set !== 'scheduled' ? <th scope="col">Error</th> : null}
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.jid} className="border-t border-theme-border align-top" data-jid={j.jid}>
            <td className="whitespace-nowrap py-1">{epoch(set === 'dead' ? j.failed_at ?? j.at : j.at)}</td>
            <td className="font-mono text-xs">{j.class}</td>
            <td>{j.queue}</td>
            <td className="max-w-xs truncate font-mono text-xs" title={argsText(j.args)}>
              {j.invalid ? `undecodable: ${j.raw ?? ''}` : argsText(j.args)}
            </td>
            {set !== 'scheduled' ? (
              <td className="max-w-xs text-xs">
                {j.error_class ? `${j.error_class}: ` : ''}
                {j.error_message ?? ''}
                {typeof j.retry_count === 'number' ? <span className="block text-theme-muted">{j.retry_count} retries</span> : null}
              </td>
            ) : null}
            <td className="whitespace-nowrap text-right">
              {manage ? (
                <>
                  {workerService.canRetry(set) ? (
                    <Button variant="ghost" onClick={() => onAction('retry', j)} aria-label={`Retry now ${j.class} ${j.jid}`}>
                      Retry now
                    </Button>
                  ) : null}
                  <Button variant="ghost" onClick={() => onAction('delete', j)} aria-label={`Delete ${j.class} ${j.jid}`}>
                    Delete
                  </Button>
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function WorkerPage() {
  const { can } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const manage = can(perms.workerManage);
  const [tab, setTab] = useState<JobSet>('retries');
  const overview = useAsync(async () => {
    const [stats, queues, processes] = await Promise.all([workerService.stats(), workerService.queues(), workerService.processes()]);
    return { stats, queues, processes };
  }, []);
  const jobs = useAsync(() => workerService.jobs(tab), [tab]);

  useEffect(() => {
    if (overview.notFound) return undefined;
    const t = setInterval(() => {
      void overview.reload();
      void jobs.reload();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [overview.notFound, overview.reload, jobs.reload]);

  const act = async (a: 'retry' | 'delete', j: JobRecord): Promise<void> => {
    try {
      if (a === 'retry') await workerService.retryNow(tab, j.jid);
      else await workerService.remove(tab, j.jid);
      showNotification(a === 'retry' ? `${j.class} queued again` : `${j.class} deleted`, 'success');
      await Promise.all([jobs.reload(), overview.reload()]);
    } catch (err) {
      notifyError(err, 'The job was not changed');
    }
  };

  if (overview.notFound) {
    return (
      <PageContainer title="Worker & queues">
        <NotAvailable what="Queue monitoring" />
      </PageContainer>
    );
  }
  const s = overview.data?.stats;
  return (
    <PageContainer
      title="Worker & queues"
      description={`Refreshes every ${REFRESH_MS / 1000} s.`}
      actions={
        <Button
          variant="secondary"
          onClick={() => {
            void overview.reload();
            void jobs.reload();
          }}
        >
          Refresh
        </Button>
      }
    >
      {overview.loading && !overview.data ? <Loading label="Loading the queues" /> : null}
      {s ? (
        <dl className="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-8" data-testid="queue-stats">
          {(
            [
              ['Processed', s.processed],
              ['Failed', s.failed],
              ['Enqueued', s.enqueued],
              ['Scheduled', s.scheduled_size],
              ['Retries', s.retry_size],
              ['Dead', s.dead_size],
              ['Processes', s.processes_size],
              ['Busy', busyOf(overview.data?.processes ?? [])],
            ] as Array<[string, number]>
          ).map(([k, v]) => (
            <div key={k} className="card-theme p-3">
              <dt className="text-xs text-theme-muted">{k}</dt>
              <dd className="text-xl font-semibold">{v}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      <div className="grid gap-4 xl:grid-cols-2">
        <Section title="Queues" id="queues">
          {overview.data && overview.data.queues.length === 0 ? <EmptyState title="No queues" /> : null}
          {overview.data && overview.data.queues.length > 0 ? (
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Queues</caption>
              <thead className="text-theme-muted">
                <tr>
                  <th scope="col">Queue</th>
                  <th scope="col">Size</th>
                  <th scope="col">Latency</th>
                </tr>
              </thead>
              <tbody>
                {overview.data.queues.map((q) => (
                  <tr key={q.name} className="border-t border-theme-border">
                    <td className="py-1">
                      {q.name}
                    </td>
                    <td>{q.size}</td>
                    <td>{formatDuration(q.latency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </Section>
        <Section title="Processes" id="processes">
          {overview.data && overview.data.processes.length === 0 ? <EmptyState title="No worker process is running" /> : null}
          <ul className="flex flex-col gap-3">
            {(overview.data?.processes ?? []).map((p) => (
              <li key={p.identity} className="rounded border border-theme-border p-2 text-sm">
                <p className="flex flex-wrap items-center gap-2 font-medium">
                  {p.hostname ?? p.identity}:{p.pid ?? '?'} {p.quiet ? <StatusBadge tone="warn">quiet</StatusBadge> : <StatusBadge tone="ok">running</StatusBadge>}
                  {p.alive === false ? <StatusBadge tone="bad">no heartbeat</StatusBadge> : null}
                  <span className="text-xs text-theme-muted">
                    {p.busy}/{p.concurrency ?? '?'} busy · queues {(p.queues ?? []).join(', ')} · beat {epoch(p.beat)}
                    {p.rss_kb ? ` · ${Math.round(p.rss_kb / 1024)} MiB` : ''}
                  </span>
                </p>
                {p.running.length > 0 ? (
                  <ul className="mt-1 text-xs">
                    {p.running.map((r) => (
                      <li key={r.thread} className="font-mono">
                        {r.job?.class ?? '?'} ({r.queue ?? r.job?.queue ?? '?'}) since {epoch(r.run_at)} {r.job?.jid ? `· ${r.job.jid}` : ''}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ul>
        </Section>
      </div>
      <section className="card-theme mt-4" aria-labelledby="jobsets-title">
        <h2 id="jobsets-title" className="sr-only">
          Job sets
        </h2>
        <div role="tablist" aria-label="Job sets" className="mb-3 flex gap-2">
          {tabs.map((t) => (
            <button
              key={t.id}
              role="tab"
              type="button"
              id={`tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls="jobset-panel"
              className={tab === t.id ? 'btn-theme' : 'btn-theme-secondary'}
              onClick={() => setTab(t.id)}
            >
              {t.label}
              {s ? ` (${t.id === 'scheduled' ? s.scheduled_size : t.id === 'retries' ? s.retry_size : s.dead_size})` : ''}
            </button>
          ))}
        </div>
        <div role="tabpanel" id="jobset-panel" aria-labelledby={`tab-${tab}`}>
          {jobs.loading && !jobs.data ? <Loading label="Loading jobs" /> : null}
          {jobs.data ? <JobTable set={tab} jobs={jobs.data.jobs} manage={manage} onAction={(a, j) => void act(a, j)} /> : null}
        </div>
      </section>
      <div className="mt-4">
        <Section title="Job classes" id="job-classes">
          {!s?.classes || Object.keys(s.classes).length === 0 ? (
            <p className="text-sm text-theme-muted">No per-class statistics reported yet.</p>
          ) : (
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Statistics per job class (recent runs of live processes)</caption>
              <thead className="text-theme-muted">
                <tr>
                  <th scope="col">Class</th>
                  <th scope="col">Recent runs</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Average</th>
                  <th scope="col">Last run</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(s.classes)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([name, c]) => (
                    <tr key={name} className="border-t border-theme-border">
                      <td className="py-1 font-mono text-xs">{name}</td>
                      <td>{c.runs}</td>
                      <td>{c.ok}</td>
                      <td>{c.failed}</td>
                      <td>{c.runs ? `${c.avg_ms.toFixed(1)} ms` : '—'}</td>
                      <td>{epoch(c.last_run_at)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
    </PageContainer>
  );
}
