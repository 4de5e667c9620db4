// Sign in: email and password, then - when the account has two-factor on - the code from the
// authenticator app or a recovery code.

import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { useSession } from '@/shared/auth/AuthContext';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { ApiError } from '@/shared/api/types';
import { Button } from '@/shared/components/Button';
import { TextField } from '@/shared/components/Field';
import { authService } from '../services/authService';
import { isMfaChallenge } from '../types';

function safeNext(next: string | null): string {
  // Only same-app paths: never an absolute URL (open redirect).
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  const { status, reload } = useSession();
  const { notifyError, showNotification } = useNotifications();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [busy, setBusy] = useState(false);

  if (status === 'authenticated') return <Navigate to={next} replace />;

  const finish = async (): Promise<void> => {
    await reload();
    navigate(next, { replace: true });
  };

  const onPassword = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const reply = await authService.login(email.trim(), password);
      if (isMfaChallenge(reply)) {
        setMfaToken(reply.mfa_token);
        setPassword('');
      } else {
        await finish();
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 423) showNotification('This account is locked for a while after too many failed attempts.', 'error');
      else notifyError(err, 'Sign-in failed');
    } finally {
      setBusy(false);
    }
  };

  const onCode = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!mfaToken) return;
    setBusy(true);
    try {
      await authService.loginMfa(mfaToken, useRecovery ? { recovery_code: code.trim() } : { code: code.trim() });
      await finish();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && /token|expired/i.test(err.message)) {
        setMfaToken(null);
      }
      notifyError(err, 'The code was not accepted');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-full items-center justify-center p-4">
      <div className="card-theme w-full max-w-sm">
        <h1 className="mb-1 text-2xl font-bold">Powernode</h1>
        <p className="mb-5 text-sm text-theme-muted">{mfaToken ? 'Two-factor authentication' : 'Sign in to mission control'}</p>
        {mfaToken ? (
          <form onSubmit={(e) => void onCode(e)} className="flex flex-col gap-4" aria-label="Two-factor code">
            <TextField
              label={useRecovery ? 'Recovery code' : 'Code from your authenticator app'}
              name="code"
              inputMode={useRecovery ? 'text' : 'numeric'}
              autoComplete="one-time-code"
              pattern={useRecovery ? undefined : '[0-9]{6}'}
              maxLength={useRecovery ? 64 : 6}
              required
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
            <Button type="submit" busy={busy}>
              Verify
            </Button>
            <Button variant="ghost" onClick={() => setUseRecovery((v) => !v)}>
              {useRecovery ? 'Use a code from the app' : 'Use a recovery code'}
            </Button>
            <Button variant="ghost" onClick={() => setMfaToken(null)}>
              Back
            </Button>
          </form>
        ) : (
          <form onSubmit={(e) => void onPassword(e)} className="flex flex-col gap-4" aria-label="Sign in">
            <TextField label="Email" name="email" type="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
            <TextField label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <Button type="submit" busy={busy}>
              Sign in
            </Button>
          </form>
        )}
      </div>
    </main>
  );
}
