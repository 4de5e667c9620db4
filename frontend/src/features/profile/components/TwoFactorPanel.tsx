// Two-factor set-up (QR code and secret, then a code to confirm; recovery codes shown once)
// and turning it off.

import { useState, type FormEvent } from 'react';
import { useSession } from '@/shared/auth/AuthContext';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { Button } from '@/shared/components/Button';
import { TextField } from '@/shared/components/Field';
import { Dialog } from '@/shared/components/Dialog';
import { QrCode } from '@/shared/components/QrCode';
import { CopyButton } from '@/shared/components/CopyButton';
import { StatusBadge } from '@/shared/components/Feedback';
import { profileService } from '../services/profileService';
import type { TotpSetup } from '../types';

export function TwoFactorPanel() {
  const { me, reload } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const enabled = me?.user.totp_enabled === true;

  const start = async (): Promise<void> => {
    setBusy(true);
    try {
      setSetup(await profileService.totpSetup());
    } catch (err) {
      notifyError(err, 'Two-factor set-up could not start');
    } finally {
      setBusy(false);
    }
  };

  const confirm = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const codes = await profileService.totpEnable(code.trim());
      setSetup(null);
      setCode('');
      setRecovery(codes);
      showNotification('Two-factor authentication is on', 'success');
      await reload();
    } catch (err) {
      notifyError(err, 'The code was not accepted');
    } finally {
      setBusy(false);
    }
  };

  const disable = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      await profileService.totpDisable(password, code.trim());
      setPassword('');
      setCode('');
      showNotification('Two-factor authentication is off', 'success');
      await reload();
    } catch (err) {
      notifyError(err, 'Two-factor authentication was not turned off');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex flex-col gap-3">
      <p className="text-sm">
        Status: <StatusBadge tone={enabled ? 'ok' : 'neutral'}>{enabled ? 'on' : 'off'}</StatusBadge>
      </p>
      {!enabled && !setup ? (
        <div>
          <Button onClick={() => void start()} busy={busy}>
            Set up two-factor authentication
          </Button>
        </div>
      ) : null}
      {setup ? (
        <form className="flex flex-col gap-3" onSubmit={(e) => void confirm(e)} aria-label="Confirm two-factor set-up">
          <p className="text-sm">Scan this code with your authenticator app, or type the secret in, then enter the 6-digit code it shows.</p>
          <QrCode text={setup.otpauth_uri} label="QR code for your authenticator app" />
          <p className="flex items-center gap-2 text-sm">
            <span>Secret:</span>
            <code className="break-all rounded bg-theme-bg px-2 py-1" data-testid="totp-secret">
              {setup.secret}
            </code>
            <CopyButton text={setup.secret} label="Copy secret" />
          </p>
          <TextField label="Code from the app" inputMode="numeric" pattern="[0-9]{6}" maxLength={6} autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
          <div className="flex gap-2">
            <Button type="submit" busy={busy}>
              Turn on
            </Button>
            <Button variant="secondary" onClick={() => setSetup(null)}>
              Cancel
            </Button>
          </div>
        </form>
      ) : null}
      {enabled ? (
        <form className="flex max-w-md flex-col gap-3" onSubmit={(e) => void disable(e)} aria-label="Turn off two-factor authentication">
          <TextField label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <TextField label="Code from the app or a recovery code" required value={code} onChange={(e) => setCode(e.target.value)} autoComplete="one-time-code" />
          <div>
            <Button type="submit" variant="danger" busy={busy}>
              Turn off two-factor
            </Button>
          </div>
        </form>
      ) : null}
      <Dialog open={recovery !== null} title="Recovery codes" onClose={() => setRecovery(null)} footer={<Button onClick={() => setRecovery(null)}>I have saved them</Button>}>
        <p className="text-sm">Each code signs you in once if you lose your device. They are shown only now: store them somewhere safe.</p>
        <ul className="grid grid-cols-2 gap-1 font-mono text-sm" data-testid="recovery-codes">
          {(recovery ?? []).map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
        <CopyButton text={(recovery ?? []).join('\n')} label="Copy all codes" />
      </Dialog>
    </div>
  );
}
