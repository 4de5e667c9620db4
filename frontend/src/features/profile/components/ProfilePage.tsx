// Your own account: password, two-factor authentication and API keys.

import { useState, type FormEvent } from 'react';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { ApiError } from '@/shared/api/types';
import { PageContainer, Section } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { TextField } from '@/shared/components/Field';
import { StatusBadge } from '@/shared/components/Feedback';
import { formatDate } from '@/shared/utils/format';
import { profileService } from '../services/profileService';
import { TwoFactorPanel } from './TwoFactorPanel';
import { ApiKeysPanel } from './ApiKeysPanel';

function PasswordForm() {
  const { showNotification, notifyError } = useNotifications();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (next !== confirm) {
      setFieldErrors({ confirm: 'The two new passwords differ' });
      return;
    }
    setBusy(true);
    setFieldErrors({});
    try {
      await profileService.changePassword(current, next);
      setCurrent('');
      setNext('');
      setConfirm('');
      showNotification('Password changed; your other sessions were signed out', 'success');
    } catch (err) {
      if (err instanceof ApiError) {
        setFieldErrors(Object.fromEntries(err.details.map((d) => [d.field.replace(/^\//, ''), d.message])));
      }
      notifyError(err, 'The password was not changed');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="flex max-w-md flex-col gap-3" onSubmit={(e) => void submit(e)} aria-label="Change password">
      <TextField label="Current password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} error={fieldErrors.current_password} />
      <TextField label="New password" type="password" autoComplete="new-password" required minLength={12} value={next} onChange={(e) => setNext(e.target.value)} error={fieldErrors.new_password} hint="At least 12 characters." />
      <TextField label="Repeat the new password" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} error={fieldErrors.confirm} />
      <div>
        <Button type="submit" busy={busy}>
          Change password
        </Button>
      </div>
    </form>
  );
}

export default function ProfilePage() {
  const { me, can } = useSession();
  if (!me) return null;
  return (
    <PageContainer title="Profile" description="Your account, sign-in security and API keys.">
      <div className="grid gap-4 xl:grid-cols-2">
        <Section title="Account" id="account">
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
            <dt className="text-theme-muted">Name</dt>
            <dd>{me.user.name}</dd>
            <dt className="text-theme-muted">Email</dt>
            <dd>{me.user.email}</dd>
            <dt className="text-theme-muted">Account</dt>
            <dd>{me.account?.name ?? '—'}</dd>
            <dt className="text-theme-muted">Roles</dt>
            <dd className="flex flex-wrap gap-1">
              {me.roles.map((r) => (
                <StatusBadge key={r.id} tone="neutral">
                  {r.name}
                </StatusBadge>
              ))}
            </dd>
            <dt className="text-theme-muted">Last sign-in</dt>
            <dd>{formatDate(me.user.last_login_at)}</dd>
          </dl>
        </Section>
        {can(perms.selfManage) ? (
          <Section title="Password" id="password">
            <PasswordForm />
          </Section>
        ) : null}
        {can(perms.selfManage) ? (
          <Section title="Two-factor authentication" id="two-factor">
            <TwoFactorPanel />
          </Section>
        ) : null}
        {can(perms.apiKeys) ? (
          <Section title="API keys" id="api-keys">
            <ApiKeysPanel />
          </Section>
        ) : null}
      </div>
    </PageContainer>
  );
}
