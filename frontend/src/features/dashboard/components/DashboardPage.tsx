// The dashboard: server health, loaded plugins, queues, and the latest audit activity, live.

import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { systemService } from '@/features/system/services/systemService';
import { workerService } from '@/features/worker/services/workerService';
import { auditService, AUDIT_CHANNEL } from '@/features/audit/services/auditService';
import type { AuditEntry } from '@/features/audit/types';
import type { QueueInfo, QueueStats } from '@/features/worker/types';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useAsync } from '@/shared/hooks/useAsync';
import { useLiveEvents } from '@/shared/hooks/useLiveEvents';
import { PageContainer, Section } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { EmptyState, Loading, NotAvailable, StatusBadge, toneOf } from '@/shared/components/Feedback';
import { formatDate, formatDuration } from '@/shared/utils/format';

function Health() {
  const health = useAsync(() => Promise.all([systemService.health(), systemService.ready()]), []);
  useEffect(() => {
    const t = setInterval(() => void health.reload(), 15_000);
    return () => clearInterval(t);
  }, [health.reload]);
  if (health.loading && !health.data) return <Loading label="Checking the server" />;
  if (!health.data) return <StatusBadge tone="bad">server unreachable</StatusBadge>;
  const [live, ready] = health.data;
  const rows: Array<[string, string]> = [['server', live.status], ['readiness', ready.status], ...Object.entries(ready.checks)];
  return (
    <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-sm" data-testid="health">
      {rows.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="capitalize text-theme-muted">{k}</dt>
          <dd>
            <StatusBadge tone={toneOf(v)}>{v}</StatusBadge>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Plugins() {
  const p = useAsync(() => systemService.plugins(), []);
  if (p.loading) return <Loading label="Loading plugins" />;
  if (!p.data) return <p className="text-sm text-theme-muted">Plugins could not be listed.</p>;
  if (p.data.plugins.length === 0) return <EmptyState title="No plugins loaded" />;
  return (
    <table className="w-full text-left text-sm" data-testid="plugins">
      <caption className="sr-only">Loaded plugins and extensions</caption>
      <thead className="text-theme-muted">
        <tr>
          <th scope="col" className="py-1">Name</th>
          <th scope="col">Version</th>
          <th scope="col">Kind</th>
          <th scope="col">Routes</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {p.data.plugins.map((pl) => (
          <tr key={pl.name} className="border-t border-theme-border" title={pl.summary}>
            <td className="py-1 font-medium">{pl.name}</td>
            <td>{pl.version}</td>
            <td>{pl.kind}</td>
            <td>{pl.route_count ?? '—'}</td>
            <td>
              <StatusBadge tone={toneOf(pl.state)}>{pl.state}</StatusBadge>
              {pl.error ? <span className="ml-2 text-xs text-theme-danger">{pl.error}</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Queues() {
  const q = useAsync(async (): Promise<{ stats: QueueStats; queues: QueueInfo[] }> => {
    const [stats, queues] = await Promise.all([workerService.stats(), workerService.queues()]);
    return { stats, queues };
  }, []);
  useEffect(() => {
    const t = setInterval(() => void q.reload(), 10_000);
    return () => clearInterval(t);
  }, [q.reload]);
  if (q.loading && !q.data) return <Loading label="Loading queues" />;
  if (q.notFound) return <NotAvailable what="Queue monitoring" />;
  if (!q.data) return <p className="text-sm text-theme-muted">Queues could not be read.</p>;
  const s = q.data.stats;
  return (
    <div className="flex flex-col gap-3">
      <p className="text-sm">
        {s.enqueued} enqueued · {s.scheduled_size} scheduled · {s.retry_size} retries · {s.dead_size} dead · {s.processes_size} processes
      </p>
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Queue sizes and latency</caption>
        <thead className="text-theme-muted">
          <tr>
            <th scope="col">Queue</th>
            <th scope="col">Size</th>
            <th scope="col">Latency</th>
          </tr>
        </thead>
        <tbody>
          {q.data.queues.map((x) => (
            <tr key={x.name} className="border-t border-theme-border">
              <td className="py-1">{x.name}</td>
              <td>{x.size}</td>
              <td>{formatDuration(x.latency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Activity() {
  const { can } = useSession();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [notFound, setNotFound] = useState(false);
  const load = useCallback(async () => {
    try {
      const r = await auditService.list({ per_page: 10 });
      setEntries(r.entries);
    } catch (err) {
      setNotFound(err instanceof Error && 'status' in err && (err as { status: number }).status === 404);
      setEntries([]);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  // Rows arrive on the audit channel; without one, poll.
  useLiveEvents(AUDIT_CHANNEL, (e) => {
    const row = e.data as Partial<AuditEntry> | null;
    if (row && typeof row.id === 'string' && typeof row.action === 'string') {
      const full = { ...row, created_at: row.created_at ?? e.publishedAt ?? null } as AuditEntry;
      setEntries((list) => [full, ...(list ?? []).filter((x) => x.id !== full.id)].slice(0, 10));
    } else {
      void load();
    }
  });
  useEffect(() => {
    const t = setInterval(() => void load(), 30_000);
    return () => clearInterval(t);
  }, [load]);
  if (!can(perms.auditRead)) return <p className="text-sm text-theme-muted">Your roles do not include reading the audit log.</p>;
  if (notFound) return <NotAvailable what="The audit log" />;
  if (!entries) return <Loading label="Loading activity" />;
  if (entries.length === 0) return <EmptyState title="No activity yet" />;
  return (
    <ol className="flex flex-col divide-y divide-theme-border text-sm" data-testid="activity" aria-live="polite">
      {entries.map((e) => (
        <li key={e.id} className="flex items-center justify-between gap-2 py-1.5">
          <span>
            <span className="font-medium">{e.action}</span>
            {e.target_type ? <span className="text-theme-muted"> · {e.target_type}</span> : null}
          </span>
          <span className="flex items-center gap-2">
            <StatusBadge tone={toneOf(e.result)}>{e.result}</StatusBadge>
            <time className="text-xs text-theme-muted">{formatDate(e.created_at)}</time>
          </span>
        </li>
      ))}
    </ol>
  );
}

export default function DashboardPage() {
  const { can, me } = useSession();
  return (
    <PageContainer
      title="Dashboard"
      description={me ? `Signed in as ${me.user.email}` : undefined}
      actions={
        can(perms.auditRead) ? (
          <Link to="/audit" className="btn-theme-secondary">
            Open audit log
          </Link>
        ) : (
          <Button variant="secondary" onClick={() => window.location.reload()}>
            Refresh
          </Button>
        )
      }
    >
      <div className="grid gap-4 lg:grid-cols-2">
        <Section title="Health" id="health">
          <Health />
        </Section>
        {can(perms.systemRead) ? (
          <Section title="Plugins and extensions" id="plugins">
            <Plugins />
          </Section>
        ) : null}
        {can(perms.workerRead) ? (
          <Section title="Queues" id="queues">
            <Queues />
          </Section>
        ) : null}
        <Section title="Recent activity" id="activity">
          <Activity />
        </Section>
      </div>
    </PageContainer>
  );
}
