// The audit log with filters (action prefix, result, target, user, time range) and pages; new
// rows appear live on the first page.

import { useState, type FormEvent } from 'react';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useAsync } from '@/shared/hooks/useAsync';
import { useLiveEvents } from '@/shared/hooks/useLiveEvents';
import { PageContainer } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { SelectField, TextField } from '@/shared/components/Field';
import { Dialog } from '@/shared/components/Dialog';
import { EmptyState, Loading, NotAvailable, StatusBadge, toneOf } from '@/shared/components/Feedback';
import { Pager } from '@/shared/components/Pager';
import { formatDate } from '@/shared/utils/format';
import { auditService, AUDIT_CHANNEL } from '../services/auditService';
import type { AuditEntry, AuditFilters } from '../types';

const empty = { action: '', result: '', target_type: '', target_id: '', user_id: '', from: '', to: '' };

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export default function AuditLogPage() {
  const { can } = useSession();
  const [draft, setDraft] = useState(empty);
  const [filters, setFilters] = useState<AuditFilters>({ page: 1, per_page: 50 });
  const [open, setOpen] = useState<AuditEntry | null>(null);
  const log = useAsync((signal) => auditService.list(filters, signal), [filters]);
  useLiveEvents(AUDIT_CHANNEL, () => {
    if ((filters.page ?? 1) === 1) void log.reload();
  });

  const apply = (e: FormEvent): void => {
    e.preventDefault();
    const f: AuditFilters = { page: 1, per_page: 50 };
    if (draft.action) f.action = draft.action.trim();
    if (draft.result) f.result = draft.result as AuditFilters['result'];
    if (draft.target_type) f.target_type = draft.target_type.trim();
    if (draft.target_id) f.target_id = draft.target_id.trim();
    if (draft.user_id) f.user_id = draft.user_id.trim();
    const from = toIso(draft.from);
    const to = toIso(draft.to);
    if (from) f.from = from;
    if (to) f.to = to;
    setFilters(f);
  };

  return (
    <PageContainer
      title="Audit log"
      description={can(perms.auditAll) ? 'Every sign-in and change in this account.' : 'Your own sign-ins and changes.'}
      actions={
        <Button variant="secondary" onClick={() => void log.reload()}>
          Refresh
        </Button>
      }
    >
      <form className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-4" role="search" aria-label="Filter the audit log" onSubmit={apply}>
        <TextField label="Action starts with" placeholder="auth.login" value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })} />
        <SelectField
          label="Result"
          value={draft.result}
          onChange={(e) => setDraft({ ...draft, result: e.target.value })}
          options={[
            { value: '', label: 'Any' },
            { value: 'success', label: 'Success' },
            { value: 'failure', label: 'Failure' },
            { value: 'denied', label: 'Denied' },
          ]}
        />
        <TextField label="Target type" value={draft.target_type} onChange={(e) => setDraft({ ...draft, target_type: e.target.value })} />
        <TextField label="Target id" value={draft.target_id} onChange={(e) => setDraft({ ...draft, target_id: e.target.value })} />
        {can(perms.auditAll) ? <TextField label="User id" value={draft.user_id} onChange={(e) => setDraft({ ...draft, user_id: e.target.value })} /> : null}
        <TextField label="From" type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <TextField label="To" type="datetime-local" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <div className="flex items-end gap-2">
          <Button type="submit">Apply filters</Button>
          <Button
            variant="secondary"
            onClick={() => {
              setDraft(empty);
              setFilters({ page: 1, per_page: 50 });
            }}
          >
            Clear
          </Button>
        </div>
      </form>
      {log.notFound ? <NotAvailable what="The audit log" /> : null}
      {log.loading && !log.data ? <Loading label="Loading the audit log" /> : null}
      {log.data && log.data.entries.length === 0 ? <EmptyState title="No audit rows match" /> : null}
      {log.data && log.data.entries.length > 0 ? (
        <div className="card-theme overflow-x-auto p-0">
          <table className="w-full text-left text-sm" data-testid="audit-table">
            <caption className="sr-only">Audit rows, newest first</caption>
            <thead className="text-theme-muted">
              <tr>
                <th scope="col" className="px-4 py-2">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Result</th>
                <th scope="col">Target</th>
                <th scope="col">IP</th>
                <th scope="col">
                  <span className="sr-only">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {log.data.entries.map((e) => (
                <tr key={e.id} className="border-t border-theme-border">
                  <td className="whitespace-nowrap px-4 py-1.5">{formatDate(e.created_at)}</td>
                  <td className="font-mono text-xs">{e.action}</td>
                  <td>
                    <StatusBadge tone={toneOf(e.result)}>{e.result}</StatusBadge>
                  </td>
                  <td className="text-xs">{e.target_type ? `${e.target_type} ${e.target_id ?? ''}` : '—'}</td>
                  <td className="text-xs">{e.ip ?? '—'}</td>
                  <td className="pr-4 text-right">
                    <Button variant="ghost" onClick={() => setOpen(e)} aria-label={`Details of ${e.action} at ${formatDate(e.created_at)}`}>
                      Details
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {log.data ? <Pager label="Audit log" pagination={log.data.pagination} onPage={(page) => setFilters((f) => ({ ...f, page }))} /> : null}
      <Dialog open={open !== null} title="Audit row" onClose={() => setOpen(null)} wide>
        <pre className="max-h-96 overflow-auto rounded bg-theme-bg p-3 text-xs">{open ? JSON.stringify(open, null, 2) : ''}</pre>
      </Dialog>
    </PageContainer>
  );
}
