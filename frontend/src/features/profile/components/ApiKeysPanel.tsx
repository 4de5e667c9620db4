// Your API keys: list (masked), create with a subset of your permissions (the key is shown
// once), revoke.

import { useState, type FormEvent } from 'react';
import { useSession } from '@/shared/auth/AuthContext';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { useAsync } from '@/shared/hooks/useAsync';
import { Button } from '@/shared/components/Button';
import { useConfirm } from '@/shared/components/ConfirmDialog';
import { Checkbox, TextField } from '@/shared/components/Field';
import { Dialog } from '@/shared/components/Dialog';
import { CopyButton } from '@/shared/components/CopyButton';
import { EmptyState, Loading, NotAvailable, StatusBadge } from '@/shared/components/Feedback';
import { formatDate } from '@/shared/utils/format';
import { profileService } from '../services/profileService';
import type { ApiKey } from '../types';

export function ApiKeysPanel() {
  const { me } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const { confirm, dialog: confirmDialog } = useConfirm();
  const keys = useAsync(() => profileService.apiKeys(), []);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [created, setCreated] = useState<ApiKey | null>(null);
  const [busy, setBusy] = useState(false);
  const mine = me?.permissions ?? [];

  const toggle = (p: string): void =>
    setChosen((s) => {
      const n = new Set(s);
      if (n.has(p)) n.delete(p);
      else n.add(p);
      return n;
    });

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const k = await profileService.createApiKey(name.trim(), [...chosen].sort(), expires ? new Date(expires).toISOString() : null);
      setCreating(false);
      setName('');
      setExpires('');
      setChosen(new Set());
      setCreated(k);
      await keys.reload();
    } catch (err) {
      notifyError(err, 'The key was not created');
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (k: ApiKey): Promise<void> => {
    if (!(await confirm({ title: 'Revoke API key', message: `Revoke the key "${k.name}"? Programs using it stop working at once.`, confirmLabel: 'Revoke key' }))) return;
    try {
      await profileService.revokeApiKey(k.id);
      showNotification(`Key "${k.name}" revoked`, 'success');
      await keys.reload();
    } catch (err) {
      notifyError(err, 'The key was not revoked');
    }
  };

  if (keys.notFound) return <NotAvailable what="API key management" />;
  return (
    <div className="flex flex-col gap-3">
      <div>
        <Button onClick={() => setCreating(true)}>New API key</Button>
      </div>
      {keys.loading && !keys.data ? <Loading label="Loading keys" /> : null}
      {keys.data && keys.data.length === 0 ? <EmptyState title="No API keys" /> : null}
      {keys.data && keys.data.length > 0 ? (
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Your API keys</caption>
          <thead className="text-theme-muted">
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id} className="border-t border-theme-border">
                <td className="py-1">{k.name}</td>
                <td className="font-mono text-xs">{k.masked}</td>
                <td>{formatDate(k.last_used_at)}</td>
                <td>
                  <StatusBadge tone={k.active ? 'ok' : 'bad'}>{k.active ? 'active' : k.revoked_at ? 'revoked' : 'expired'}</StatusBadge>
                </td>
                <td className="text-right">
                  {k.active ? (
                    <Button variant="ghost" onClick={() => void revoke(k)} aria-label={`Revoke key ${k.name}`}>
                      Revoke
                    </Button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Dialog
        open={creating}
        title="New API key"
        onClose={() => setCreating(false)}
        wide
        footer={
          <>
            <Button variant="secondary" onClick={() => setCreating(false)}>
              Cancel
            </Button>
            <Button type="submit" form="new-key" busy={busy} disabled={chosen.size === 0 || name.trim() === ''}>
              Create key
            </Button>
          </>
        }
      >
        <form id="new-key" className="flex flex-col gap-3" onSubmit={(e) => void create(e)}>
          <TextField label="Name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          <TextField label="Expires (optional)" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          <fieldset className="flex flex-col gap-1">
            <legend className="mb-1 text-sm font-medium">Permissions (a key can hold only permissions you have)</legend>
            <div className="grid max-h-64 grid-cols-1 gap-1 overflow-auto sm:grid-cols-2">
              {mine.map((p) => (
                <Checkbox key={p} label={p} checked={chosen.has(p)} onChange={() => toggle(p)} />
              ))}
            </div>
          </fieldset>
        </form>
      </Dialog>
      <Dialog open={created !== null} title="Your new API key" onClose={() => setCreated(null)} footer={<Button onClick={() => setCreated(null)}>Done</Button>}>
        <p className="text-sm">Copy the key now: it is shown only once and cannot be recovered.</p>
        <code className="block break-all rounded bg-theme-bg p-2 font-mono text-sm" data-testid="new-api-key">
          {created?.key ?? ''}
        </code>
        <CopyButton text={created?.key ?? ''} label="Copy key" />
      </Dialog>
      {confirmDialog}
    </div>
  );
}
