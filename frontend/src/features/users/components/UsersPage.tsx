// Users of the account: search and filter, create (active with a password, or invited),
// change roles and status, delete.

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
import { Pager } from '@/shared/components/Pager';
import { formatDate } from '@/shared/utils/format';
import { rolesService, usersService } from '../services/usersService';
import type { Role, User, UserFilters } from '../types';

function RolePicker({ roles, chosen, onChange }: { roles: Role[]; chosen: Set<string>; onChange: (s: Set<string>) => void }) {
  return (
    <fieldset className="flex flex-col gap-1">
      <legend className="mb-1 text-sm font-medium">Roles</legend>
      {roles.map((r) => (
        <Checkbox
          key={r.id}
          label={r.name}
          description={r.description}
          checked={chosen.has(r.id)}
          onChange={() => {
            const n = new Set(chosen);
            if (n.has(r.id)) n.delete(r.id);
            else n.add(r.id);
            onChange(n);
          }}
        />
      ))}
    </fieldset>
  );
}

export default function UsersPage() {
  const { can, me } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const { confirm, dialog: confirmDialog } = useConfirm();
  const manage = can(perms.usersManage);
  const [filters, setFilters] = useState<UserFilters>({ page: 1, per_page: 25 });
  const [q, setQ] = useState('');
  const users = useAsync(() => usersService.list(filters), [filters]);
  const roles = useAsync(() => (can(perms.rolesRead) ? rolesService.list() : Promise.resolve<Role[]>([])), []);
  const [editing, setEditing] = useState<User | null>(null);
  const [creating, setCreating] = useState(false);
  const [form, setForm] = useState({ email: '', name: '', password: '', invite: false });
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [status, setStatus] = useState<'active' | 'disabled'>('active');
  const [busy, setBusy] = useState(false);

  const openCreate = (): void => {
    setForm({ email: '', name: '', password: '', invite: false });
    const member = roles.data?.find((r) => r.name === 'member');
    setChosen(new Set(member ? [member.id] : []));
    setCreating(true);
  };
  const openEdit = (u: User): void => {
    setChosen(new Set(u.roles.map((r) => r.id)));
    setStatus(u.status === 'disabled' ? 'disabled' : 'active');
    setEditing(u);
  };

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const u = await usersService.create({
        email: form.email.trim(),
        ...(form.name.trim() ? { name: form.name.trim() } : {}),
        ...(form.invite ? { status: 'invited' as const } : { password: form.password, status: 'active' as const }),
        roles: [...chosen],
      });
      showNotification(`User ${u.email} created`, 'success');
      setCreating(false);
      await users.reload();
    } catch (err) {
      notifyError(err, 'The user was not created');
    } finally {
      setBusy(false);
    }
  };

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!editing) return;
    setBusy(true);
    try {
      await usersService.update(editing.id, { roles: [...chosen], ...(editing.status !== 'invited' ? { status } : {}) });
      showNotification(`User ${editing.email} updated`, 'success');
      setEditing(null);
      await users.reload();
    } catch (err) {
      notifyError(err, 'The user was not updated');
    } finally {
      setBusy(false);
    }
  };

  const remove = async (u: User): Promise<void> => {
    if (!(await confirm({ title: 'Delete user', message: `Delete the user ${u.email}? This cannot be undone.`, confirmLabel: 'Delete user' }))) return;
    try {
      await usersService.remove(u.id);
      showNotification(`User ${u.email} deleted`, 'success');
      await users.reload();
    } catch (err) {
      notifyError(err, 'The user was not deleted');
    }
  };

  return (
    <PageContainer
      title="Users"
      description="People who can sign in to this account, and their roles."
      actions={
        manage ? (
          <Button onClick={openCreate} data-testid="create-user">
            New user
          </Button>
        ) : null
      }
    >
      <form
        className="mb-4 flex flex-wrap items-end gap-3"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters((f) => ({ ...f, q, page: 1 }));
        }}
      >
        <div className="w-64">
          <TextField label="Search by name or email" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        <div className="w-40">
          <SelectField
            label="Status"
            value={filters.status ?? ''}
            onChange={(e) => setFilters((f) => ({ ...f, status: e.target.value as UserFilters['status'], page: 1 }))}
            options={[
              { value: '', label: 'Any' },
              { value: 'active', label: 'Active' },
              { value: 'invited', label: 'Invited' },
              { value: 'disabled', label: 'Disabled' },
            ]}
          />
        </div>
        <Button type="submit" variant="secondary">
          Search
        </Button>
      </form>
      {users.notFound ? <NotAvailable what="User administration" /> : null}
      {users.loading && !users.data ? <Loading label="Loading users" /> : null}
      {users.data && users.data.users.length === 0 ? <EmptyState title="No users match" /> : null}
      {users.data && users.data.users.length > 0 ? (
        <div className="card-theme overflow-x-auto p-0">
          <table className="w-full text-left text-sm" data-testid="users-table">
            <caption className="sr-only">Users</caption>
            <thead className="text-theme-muted">
              <tr>
                <th scope="col" className="px-4 py-2">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Roles</th>
                <th scope="col">Status</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((u) => (
                <tr key={u.id} className="border-t border-theme-border">
                  <td className="px-4 py-2 font-medium">{u.name || '—'}</td>
                  <td>{u.email}</td>
                  <td>{u.roles.map((r) => r.name).join(', ') || '—'}</td>
                  <td>
                    <StatusBadge tone={toneOf(u.status)}>{u.status}</StatusBadge>
                    {u.totp_enabled ? <span className="ml-1 text-xs text-theme-muted">2FA</span> : null}
                  </td>
                  <td>{formatDate(u.last_login_at)}</td>
                  <td className="whitespace-nowrap pr-4 text-right">
                    {manage ? (
                      <>
                        <Button variant="ghost" onClick={() => openEdit(u)} aria-label={`Edit ${u.email}`}>
                          Edit
                        </Button>
                        {u.id !== me?.user.id ? (
                          <Button variant="ghost" onClick={() => void remove(u)} aria-label={`Delete ${u.email}`}>
                            Delete
                          </Button>
                        ) : null}
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {users.data ? <Pager label="Users" pagination={users.data.pagination} onPage={(page) => setFilters((f) => ({ ...f, page }))} /> : null}

      <Dialog
        open={creating}
        title="New user"
        onClose={() => setCreating(false)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setCreating(false)}>
              Cancel
            </Button>
            <Button type="submit" form="new-user" busy={busy}>
              Create user
            </Button>
          </>
        }
      >
        <form id="new-user" className="flex flex-col gap-3" onSubmit={(e) => void create(e)}>
          <TextField label="Email" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
          <TextField label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          <Checkbox label="Invite (the user sets a password later)" checked={form.invite} onChange={(e) => setForm({ ...form, invite: e.target.checked })} />
          {!form.invite ? (
            <TextField label="Initial password" type="password" autoComplete="new-password" required minLength={12} value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
          ) : null}
          <RolePicker roles={roles.data ?? []} chosen={chosen} onChange={setChosen} />
        </form>
      </Dialog>

      <Dialog
        open={editing !== null}
        title={`Edit ${editing?.email ?? ''}`}
        onClose={() => setEditing(null)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setEditing(null)}>
              Cancel
            </Button>
            <Button type="submit" form="edit-user" busy={busy}>
              Save
            </Button>
          </>
        }
      >
        <form id="edit-user" className="flex flex-col gap-3" onSubmit={(e) => void save(e)}>
          {editing?.status !== 'invited' ? (
            <SelectField
              label="Status"
              value={status}
              onChange={(e) => setStatus(e.target.value === 'disabled' ? 'disabled' : 'active')}
              options={[
                { value: 'active', label: 'Active' },
                { value: 'disabled', label: 'Disabled' },
              ]}
            />
          ) : null}
          <RolePicker roles={roles.data ?? []} chosen={chosen} onChange={setChosen} />
        </form>
      </Dialog>
      {confirmDialog}
    </PageContainer>
  );
}
