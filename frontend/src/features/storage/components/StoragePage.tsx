// Storage administration: configurations, the default, quotas and usage, connection tests.

import { useState, type FormEvent } from 'react';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { useAsync } from '@/shared/hooks/useAsync';
import { PageContainer } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { useConfirm } from '@/shared/components/ConfirmDialog';
import { Checkbox, SelectField, TextField } from '@/shared/components/Field';
import { Dialog } from '@/shared/components/Dialog';
import { EmptyState, Loading, NotAvailable, StatusBadge, toneOf } from '@/shared/components/Feedback';
import { formatBytes, formatDate } from '@/shared/utils/format';
import { storageService } from '../services/storageService';
import { providerFields, providerLabels, quotaFromGiB } from '../utils/providers';
import type { ProviderType, StorageConfig } from '../types';

interface Draft {
  name: string;
  provider_type: ProviderType;
  is_default: boolean;
  quota: string;
  conf: Record<string, string | boolean>;
}

const blank: Draft = { name: '', provider_type: 'local', is_default: false, quota: '', conf: {} };

function Usage({ s }: { s: StorageConfig }) {
  if (s.quota_bytes === null) return <span className="text-sm">{formatBytes(s.used_bytes)} used · no quota</span>;
  const pct = s.quota_bytes > 0 ? Math.min(100, Math.round((s.used_bytes / s.quota_bytes) * 100)) : 100;
  return (
    <div className="flex flex-col gap-1 text-sm">
      <span>
        {formatBytes(s.used_bytes)} of {formatBytes(s.quota_bytes)} ({pct}%)
      </span>
      <progress max={100} value={pct} className="h-2 w-full" aria-label={`Quota used on ${s.name}`} />
    </div>
  );
}

export default function StoragePage() {
  const { can } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const { confirm, dialog: confirmDialog } = useConfirm();
  const list = useAsync(() => storageService.list(), []);
  const [editing, setEditing] = useState<StorageConfig | 'new' | null>(null);
  const [draft, setDraft] = useState<Draft>(blank);
  const [busy, setBusy] = useState(false);
  const [testing, setTesting] = useState<string | null>(null);

  const openNew = (): void => {
    setDraft(blank);
    setEditing('new');
  };
  const openEdit = (s: StorageConfig): void => {
    const conf: Record<string, string | boolean> = {};
    for (const f of providerFields[s.provider_type]) {
      const v = s.configuration[f.name];
      if (!f.secret && (typeof v === 'string' || typeof v === 'boolean')) conf[f.name] = v;
    }
    setDraft({ name: s.name, provider_type: s.provider_type, is_default: s.is_default, quota: s.quota_bytes === null ? '' : String(s.quota_bytes / 1024 ** 3), conf });
    setEditing(s);
  };

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    const configuration: Record<string, unknown> = {};
    for (const f of providerFields[draft.provider_type]) {
      const v = draft.conf[f.name];
      if (v !== undefined && v !== '') configuration[f.name] = v;
    }
    try {
      if (editing === 'new') {
        await storageService.create({ name: draft.name.trim(), provider_type: draft.provider_type, is_default: draft.is_default, quota_bytes: quotaFromGiB(draft.quota), configuration });
        showNotification(`Storage ${draft.name} created`, 'success');
      } else if (editing) {
        await storageService.update(editing.id, { name: draft.name.trim(), is_default: draft.is_default, quota_bytes: quotaFromGiB(draft.quota), configuration });
        showNotification(`Storage ${draft.name} saved`, 'success');
      }
      setEditing(null);
      await list.reload();
    } catch (err) {
      notifyError(err, 'The storage configuration was not saved');
    } finally {
      setBusy(false);
    }
  };

  const test = async (s: StorageConfig): Promise<void> => {
    setTesting(s.id);
    try {
      const r = await storageService.test(s.id);
      showNotification(r.connected ? `${s.name}: connected` : `${s.name}: not connected`, r.connected ? 'success' : 'error');
      await list.reload();
    } catch (err) {
      notifyError(err, `${s.name}: the connection test failed`);
    } finally {
      setTesting(null);
    }
  };

  const remove = async (s: StorageConfig): Promise<void> => {
    if (!(await confirm({ title: 'Delete storage configuration', message: `Delete the storage configuration ${s.name}?`, confirmLabel: 'Delete configuration' }))) return;
    try {
      await storageService.remove(s.id);
      showNotification(`Storage ${s.name} deleted`, 'success');
      await list.reload();
    } catch (err) {
      notifyError(err, 'The storage configuration was not deleted');
    }
  };

  return (
    <PageContainer
      title="Storage"
      description="Where this account's files are kept, with quotas and usage."
      actions={can(perms.storageCreate) ? <Button onClick={openNew}>New storage</Button> : null}
    >
      {list.notFound ? <NotAvailable what="Storage administration" /> : null}
      {list.loading && !list.data ? <Loading label="Loading storage" /> : null}
      {list.data && list.data.storages.length === 0 ? <EmptyState title="No storage configured" /> : null}
      {list.data ? (
        <div className="grid gap-4 lg:grid-cols-2" data-testid="storages">
          {list.data.storages.map((s) => (
            <section key={s.id} className="card-theme flex flex-col gap-2" aria-label={`Storage ${s.name}`}>
              <div className="flex items-center justify-between gap-2">
                <h2 className="font-semibold">
                  {s.name} {s.is_default ? <StatusBadge tone="ok">default</StatusBadge> : null}
                </h2>
                <StatusBadge tone={toneOf(s.status)}>{s.status}</StatusBadge>
              </div>
              <p className="text-sm text-theme-muted">
                {providerLabels[s.provider_type] ?? s.provider_type} · {s.files_count} files · health {s.health_status ?? 'unknown'}
                {s.last_health_check_at ? ` (${formatDate(s.last_health_check_at)})` : ''}
              </p>
              <Usage s={s} />
              <div className="flex flex-wrap gap-2">
                {can(perms.storageTest) ? (
                  <Button variant="secondary" onClick={() => void test(s)} busy={testing === s.id} aria-label={`Test connection of ${s.name}`}>
                    Test connection
                  </Button>
                ) : null}
                {can(perms.storageUpdate) ? (
                  <Button variant="secondary" onClick={() => openEdit(s)} aria-label={`Edit ${s.name}`}>
                    Edit
                  </Button>
                ) : null}
                {can(perms.storageDelete) && !s.is_default ? (
                  <Button variant="ghost" onClick={() => void remove(s)} aria-label={`Delete ${s.name}`}>
                    Delete
                  </Button>
                ) : null}
              </div>
            </section>
          ))}
        </div>
      ) : null}
      <Dialog
        open={editing !== null}
        title={editing === 'new' ? 'New storage' : `Edit ${draft.name}`}
        onClose={() => setEditing(null)}
        wide
        footer={
          <>
            <Button variant="secondary" onClick={() => setEditing(null)}>
              Cancel
            </Button>
            <Button type="submit" form="storage-form" busy={busy}>
              Save
            </Button>
          </>
        }
      >
        <form id="storage-form" className="grid gap-3 sm:grid-cols-2" onSubmit={(e) => void save(e)}>
          <TextField label="Name" required maxLength={255} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          <SelectField
            label="Provider"
            value={draft.provider_type}
            disabled={editing !== 'new'}
            options={(Object.keys(providerLabels) as ProviderType[]).map((p) => ({ value: p, label: providerLabels[p] }))}
            onChange={(e) => setDraft({ ...draft, provider_type: e.target.value as ProviderType, conf: {} })}
          />
          <TextField label="Quota in GiB (empty for none)" type="number" min={0} step="any" value={draft.quota} onChange={(e) => setDraft({ ...draft, quota: e.target.value })} />
          <div className="flex items-end">
            <Checkbox label="Default storage for new files" checked={draft.is_default} onChange={(e) => setDraft({ ...draft, is_default: e.target.checked })} />
          </div>
          {providerFields[draft.provider_type].map((f) =>
            f.kind === 'bool' ? (
              <Checkbox key={f.name} label={f.label} checked={draft.conf[f.name] === true} onChange={(e) => setDraft({ ...draft, conf: { ...draft.conf, [f.name]: e.target.checked } })} />
            ) : (
              <TextField
                key={f.name}
                label={f.label}
                type={f.secret ? 'password' : 'text'}
                autoComplete="off"
                required={f.required === true && (editing === 'new' || !f.secret)}
                placeholder={f.secret && editing !== 'new' ? 'unchanged' : undefined}
                value={typeof draft.conf[f.name] === 'string' ? (draft.conf[f.name] as string) : ''}
                onChange={(e) => setDraft({ ...draft, conf: { ...draft.conf, [f.name]: e.target.value } })}
              />
            ),
          )}
        </form>
      </Dialog>
      {confirmDialog}
    </PageContainer>
  );
}
