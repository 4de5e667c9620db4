// Roles and their permissions, edited by category. System roles are shown read-only.

import { useMemo, useState, type FormEvent } from 'react';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { useAsync } from '@/shared/hooks/useAsync';
import { PageContainer } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { useConfirm } from '@/shared/components/ConfirmDialog';
import { Checkbox, TextField } from '@/shared/components/Field';
import { Dialog } from '@/shared/components/Dialog';
import { Loading, NotAvailable, StatusBadge } from '@/shared/components/Feedback';
import { rolesService } from '../services/usersService';
import { groupPermissions } from '../utils/permissionGroups';
import type { Role } from '../types';

export default function RolesPage() {
  const { can, me } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const { confirm, dialog: confirmDialog } = useConfirm();
  const manage = can(perms.rolesManage);
  const roles = useAsync(() => rolesService.list(), []);
  const registry = useAsync(() => rolesService.registry(), []);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [draft, setDraft] = useState<Set<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const [newName, setNewName] = useState('');
  const [newDesc, setNewDesc] = useState('');
  const [busy, setBusy] = useState(false);

  const selected = roles.data?.find((r) => r.id === selectedId) ?? roles.data?.[0] ?? null;
  const groups = useMemo(() => groupPermissions(registry.data, me?.permissions ?? []), [registry.data, me]);
  const held = useMemo(() => new Set(me?.permissions ?? []), [me]);

  const select = (r: Role): void => {
    setSelectedId(r.id);
    setDraft(new Set(r.permissions));
  };
  const current = selected && selectedId === selected.id ? draft : new Set(selected?.permissions ?? []);
  const editable = manage && selected !== null && !selected.system;
  const dirty = selected !== null && selectedId === selected.id && [...draft].sort().join() !== [...selected.permissions].sort().join();

  const toggle = (name: string): void => {
    if (!selected) return;
    const base = selectedId === selected.id ? draft : new Set(selected.permissions);
    const n = new Set(base);
    if (n.has(name)) n.delete(name);
    else n.add(name);
    setSelectedId(selected.id);
    setDraft(n);
  };
  const toggleGroup = (names: string[], on: boolean): void => {
    if (!selected) return;
    const base = selectedId === selected.id ? draft : new Set(selected.permissions);
    const n = new Set(base);
    for (const p of names) if (held.has(p) || !on) (on ? n.add(p) : n.delete(p));
    setSelectedId(selected.id);
    setDraft(n);
  };

  const savePerms = async (): Promise<void> => {
    if (!selected) return;
    setBusy(true);
    try {
      await rolesService.setPermissions(selected.id, [...draft].sort());
      showNotification(`Permissions of ${selected.name} saved`, 'success');
      await roles.reload();
    } catch (err) {
      notifyError(err, 'The permissions were not saved');
    } finally {
      setBusy(false);
    }
  };

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await rolesService.create(newName.trim(), newDesc.trim(), []);
      showNotification(`Role ${r.name} created`, 'success');
      setCreating(false);
      setNewName('');
      setNewDesc('');
      await roles.reload();
      select(r);
    } catch (err) {
      notifyError(err, 'The role was not created');
    } finally {
      setBusy(false);
    }
  };

  const remove = async (): Promise<void> => {
    if (!selected || !(await confirm({ title: 'Delete role', message: `Delete the role ${selected.name}? Users lose the permissions it gives them.`, confirmLabel: 'Delete role' }))) return;
    try {
      await rolesService.remove(selected.id);
      showNotification(`Role ${selected.name} deleted`, 'success');
      setSelectedId(null);
      await roles.reload();
    } catch (err) {
      notifyError(err, 'The role was not deleted');
    }
  };

  return (
    <PageContainer
      title="Roles"
      description="What each role may do. System roles are fixed; custom roles hold the permissions you give them."
      actions={
        manage ? (
          <>
            {editable ? (
              <>
                <Button variant="danger" onClick={() => void remove()}>
                  Delete role
                </Button>
                <Button onClick={() => void savePerms()} disabled={!dirty} busy={busy} data-testid="save-permissions">
                  Save permissions
                </Button>
              </>
            ) : null}
            <Button variant="secondary" onClick={() => setCreating(true)} data-testid="create-role">
              New role
            </Button>
          </>
        ) : null
      }
    >
      {roles.notFound ? <NotAvailable what="Role administration" /> : null}
      {roles.loading && !roles.data ? <Loading label="Loading roles" /> : null}
      {roles.data ? (
        <div className="grid gap-4 lg:grid-cols-[16rem_1fr]">
          <nav aria-label="Roles" className="card-theme p-2">
            <ul className="flex flex-col gap-0.5">
              {roles.data.map((r) => (
                <li key={r.id}>
                  <button
                    type="button"
                    onClick={() => select(r)}
                    aria-current={selected?.id === r.id ? 'true' : undefined}
                    className={`flex w-full items-center justify-between rounded px-3 py-2 text-left text-sm ${selected?.id === r.id ? 'bg-theme-accent text-theme-accent-text' : 'hover:bg-theme-bg'}`}
                  >
                    <span>{r.name}</span>
                    <span className="text-xs">{r.system ? 'system' : `${r.user_count ?? 0} users`}</span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          {selected ? (
            <section className="card-theme" aria-labelledby="role-title">
              <h2 id="role-title" className="text-lg font-semibold">
                {selected.name} {selected.system ? <StatusBadge tone="neutral">system</StatusBadge> : null}
              </h2>
              <p className="mb-3 text-sm text-theme-muted">{selected.description}</p>
              {selected.all_permissions ? (
                <p className="text-sm">This role holds every permission, including ones added by plugins later.</p>
              ) : (
                <div className="flex flex-col gap-4">
                  {groups.map((g) => (
                    <fieldset key={g.category} className="rounded border border-theme-border p-3">
                      <legend className="px-1 text-sm font-semibold">{g.category}</legend>
                      {editable ? (
                        <div className="mb-2 flex gap-2">
                          <Button variant="ghost" onClick={() => toggleGroup(g.names, true)} aria-label={`All ${g.category} permissions`}>
                            All
                          </Button>
                          <Button variant="ghost" onClick={() => toggleGroup(g.names, false)} aria-label={`None of the ${g.category} permissions`}>
                            None
                          </Button>
                        </div>
                      ) : null}
                      <div className="grid gap-1 sm:grid-cols-2">
                        {g.names.map((p) => (
                          <Checkbox
                            key={p}
                            label={p}
                            description={registry.data?.flatMap((c) => c.permissions).find((x) => x.name === p)?.description}
                            checked={current.has(p)}
                            disabled={!editable || (!held.has(p) && !current.has(p))}
                            onChange={() => toggle(p)}
                          />
                        ))}
                      </div>
                    </fieldset>
                  ))}
                </div>
              )}
            </section>
          ) : null}
        </div>
      ) : null}
      <Dialog
        open={creating}
        title="New role"
        onClose={() => setCreating(false)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setCreating(false)}>
              Cancel
            </Button>
            <Button type="submit" form="new-role" busy={busy}>
              Create role
            </Button>
          </>
        }
      >
        <form id="new-role" className="flex flex-col gap-3" onSubmit={(e) => void create(e)}>
          <TextField label="Name" required maxLength={100} value={newName} onChange={(e) => setNewName(e.target.value)} />
          <TextField label="Description" maxLength={1000} value={newDesc} onChange={(e) => setNewDesc(e.target.value)} />
        </form>
      </Dialog>
      {confirmDialog}
    </PageContainer>
  );
}
