// The page behind a share link, for people without an account.

import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router-dom';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { Button } from '@/shared/components/Button';
import { TextField } from '@/shared/components/Field';
import { saveBlob } from '@/features/files/services/filesService';
import { fetchShare } from '../services/publicShareService';

export default function PublicSharePage() {
  const { token = '' } = useParams();
  const { showNotification } = useNotifications();
  const [needPassword, setNeedPassword] = useState(false);
  const [password, setPassword] = useState('');
  const [gone, setGone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  const download = async (e?: FormEvent): Promise<void> => {
    e?.preventDefault();
    setBusy(true);
    try {
      const r = await fetchShare(token, needPassword ? password : null);
      if (r.kind === 'file') {
        saveBlob(r.blob, r.filename);
        setDone(true);
        showNotification(`Downloading ${r.filename}`, 'success');
      } else if (r.kind === 'password') {
        if (needPassword) showNotification(r.message, 'error');
        setNeedPassword(true);
      } else if (r.kind === 'gone') {
        setGone(r.message);
      } else {
        showNotification(r.retryAfter ? `${r.message} (retry in ${r.retryAfter} s)` : r.message, 'error');
      }
    } catch {
      showNotification('The server could not be reached', 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-full items-center justify-center p-4">
      <div className="card-theme w-full max-w-md" data-testid="public-share">
        <h1 className="mb-1 text-xl font-bold">A file was shared with you</h1>
        <p className="mb-4 text-sm text-theme-muted">Shared through Powernode. No account is needed.</p>
        {gone ? (
          <p className="text-sm" data-testid="share-gone">
            This link no longer works: {gone}.
          </p>
        ) : needPassword ? (
          <form className="flex flex-col gap-3" onSubmit={(e) => void download(e)} aria-label="Share password">
            <TextField label="Password" type="password" autoComplete="off" required autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
            <Button type="submit" busy={busy}>
              Unlock and download
            </Button>
          </form>
        ) : (
          <Button onClick={() => void download()} busy={busy} data-testid="share-download">
            {done ? 'Download again' : 'Download'}
          </Button>
        )}
      </div>
    </main>
  );
}
