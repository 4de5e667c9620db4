// One file: preview, metadata, processing status (live), versions, shares and tags.

import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { useAsync } from '@/shared/hooks/useAsync';
import { useLiveEvents } from '@/shared/hooks/useLiveEvents';
import { api } from '@/shared/api/instance';
import { asEnvelope } from '@/shared/api/types';
import { PageContainer, Section } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { TextField } from '@/shared/components/Field';
import { Dialog } from '@/shared/components/Dialog';
import { CopyButton } from '@/shared/components/CopyButton';
import { EmptyState, Loading, NotAvailable, StatusBadge, toneOf } from '@/shared/components/Feedback';
import { formatBytes, formatDate } from '@/shared/utils/format';
import { FILES_CHANNEL, filesService, saveBlob } from '../services/filesService';
import { useThumbnail } from '../hooks/useThumbnail';
import { fileIcon } from '../utils/fileIcons';
import type { FileDetail, FileShare, FileVersion } from '../types';

export function shareLink(token: string): string {
  return `${window.location.origin}/shares/${encodeURIComponent(token)}`;
}

function Preview({ file }: { file: FileDetail }) {
  const thumb = useThumbnail(file);
  const [url, setUrl] = useState<string | null>(null);
  const [text, setText] = useState<string | null>(null);
  const small = file.file_size <= 20 * 1024 * 1024;
  useEffect(() => {
    let alive = true;
    let made: string | null = null;
    setUrl(null);
    setText(null);
    if (!small) return undefined;
    const t = file.file_type;
    if (t === 'image' || t === 'video' || t === 'audio') {
      void filesService.blob(filesService.previewPath(file.id)).then((b) => {
        if (!alive) return;
        // Shown from a blob: URL under our own CSP; SVG as <img> runs no script.
        made = URL.createObjectURL(b);
        setUrl(made);
      }, () => undefined);
    } else if (t === 'code' || t === 'data' || file.content_type.startsWith('text/') || file.content_type === 'application/json') {
      void filesService.blob(filesService.previewPath(file.id)).then((b) => b.slice(0, 64 * 1024).text()).then((s) => alive && setText(s), () => undefined);
    }
    return () => {
      alive = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [file.id, file.version, file.file_type, file.content_type, small]);

  if (file.file_type === 'image' && (url ?? thumb)) return <img src={url ?? thumb ?? ''} alt={`Preview of ${file.filename}`} className="max-h-96 max-w-full rounded" data-testid="preview-image" />;
  if (file.file_type === 'video' && url) return <video src={url} controls className="max-h-96 max-w-full rounded" aria-label={`Preview of ${file.filename}`} />;
  if (file.file_type === 'audio' && url) return <audio src={url} controls aria-label={`Preview of ${file.filename}`} />;
  if (text !== null) return <pre className="max-h-96 overflow-auto rounded bg-theme-bg p-3 text-xs" aria-label={`Start of ${file.filename}`}>{text}</pre>;
  return (
    <div className="flex h-40 items-center justify-center rounded bg-theme-bg text-3xl font-bold text-theme-muted" aria-hidden="true">
      {fileIcon(file.file_type)}
    </div>
  );
}

function uploadVersion(id: string, file: File, onProgress: (pct: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/files/${encodeURIComponent(id)}/versions`);
    const t = api.tokens.get();
    if (t) xhr.setRequestHeader('Authorization', `Bearer ${t.accessToken}`);
    xhr.upload.onprogress = (e) => onProgress(e.total ? Math.floor((e.loaded / e.total) * 100) : 0);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let msg = `HTTP ${xhr.status}`;
      try {
        const env = asEnvelope(JSON.parse(xhr.responseText));
        if (env && !env.success) msg = env.error;
      } catch {
        // not JSON
      }
      reject(new Error(msg));
    };
    xhr.onerror = () => reject(new Error('network error'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

function Versions({ file, onChange }: { file: FileDetail; onChange: () => void }) {
  const { can } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const [pct, setPct] = useState<number | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const download = async (v: FileVersion): Promise<void> => {
    try {
      saveBlob(await filesService.blob(filesService.versionDownloadPath(file.id, v.id)), file.filename);
    } catch (err) {
      notifyError(err, 'The download failed');
    }
  };
  const restore = async (v: FileVersion): Promise<void> => {
    try {
      await filesService.restoreVersion(file.id, v.id);
      showNotification(`Version ${v.version_number} is current again`, 'success');
      onChange();
    } catch (err) {
      notifyError(err, 'The version was not restored');
    }
  };
  return (
    <div className="flex flex-col gap-2">
      {can(perms.filesVersion) ? (
        <div className="flex items-center gap-2">
          <label htmlFor={inputId} className="sr-only">
            Choose a file as the new version
          </label>
          <input
            id={inputId}
            ref={input}
            type="file"
            className="sr-only"
            data-testid="version-input"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (!f) return;
              setPct(0);
              uploadVersion(file.id, f, setPct)
                .then(() => {
                  showNotification('New version uploaded', 'success');
                  onChange();
                })
                .catch((err: unknown) => notifyError(err, 'The version was not uploaded'))
                .finally(() => setPct(null));
            }}
          />
          <Button variant="secondary" onClick={() => input.current?.click()} disabled={pct !== null}>
            Upload a new version
          </Button>
          {pct !== null ? <progress max={100} value={pct} aria-label="New version upload" /> : null}
        </div>
      ) : null}
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Versions</caption>
        <thead className="text-theme-muted">
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Size</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {[...file.versions].reverse().map((v) => (
            <tr key={v.id} className="border-t border-theme-border">
              <td className="py-1">
                v{v.version_number} {v.id === file.current_version_id ? <StatusBadge tone="ok">current</StatusBadge> : null}
              </td>
              <td>{formatBytes(v.file_size)}</td>
              <td>{formatDate(v.created_at)}</td>
              <td className="whitespace-nowrap text-right">
                {can(perms.filesDownload) ? (
                  <Button variant="ghost" onClick={() => void download(v)} aria-label={`Download version ${v.version_number}`}>
                    Download
                  </Button>
                ) : null}
                {can(perms.filesVersion) && v.id !== file.current_version_id ? (
                  <Button variant="ghost" onClick={() => void restore(v)} aria-label={`Restore version ${v.version_number}`}>
                    Restore
                  </Button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Shares({ file }: { file: FileDetail }) {
  const { can } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const shares = useAsync(() => filesService.shares(file.id), [file.id]);
  const [open, setOpen] = useState(false);
  const [hours, setHours] = useState('168');
  const [limit, setLimit] = useState('');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState<FileShare | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const s = await filesService.createShare(file.id, {
        ...(hours ? { expires_in: Math.round(Number(hours) * 3600) } : {}),
        ...(limit ? { max_downloads: Number(limit) } : {}),
        ...(password ? { password } : {}),
      });
      setOpen(false);
      setPassword('');
      setCreated(s);
      await shares.reload();
    } catch (err) {
      notifyError(err, 'The share was not created');
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (s: FileShare): Promise<void> => {
    try {
      await filesService.revokeShare(file.id, s.id);
      showNotification('Share revoked', 'success');
      await shares.reload();
    } catch (err) {
      notifyError(err, 'The share was not revoked');
    }
  };
  return (
    <div className="flex flex-col gap-2">
      {can(perms.filesShare) ? (
        <div>
          <Button variant="secondary" onClick={() => setOpen(true)} data-testid="create-share">
            Create a share link
          </Button>
        </div>
      ) : null}
      {shares.loading && !shares.data ? <Loading label="Loading shares" /> : null}
      {shares.data && shares.data.length === 0 ? <p className="text-sm text-theme-muted">Not shared.</p> : null}
      {shares.data && shares.data.length > 0 ? (
        <ul className="flex flex-col divide-y divide-theme-border text-sm">
          {shares.data.map((s) => (
            <li key={s.id} className="flex items-center justify-between gap-2 py-1.5">
              <span>
                <StatusBadge tone={toneOf(s.status)}>{s.status}</StatusBadge> {s.download_count}
                {s.max_downloads ? ` / ${s.max_downloads}` : ''} downloads · expires {formatDate(s.expires_at)}
                {s.password_protected ? ' · password' : ''}
              </span>
              {s.status === 'active' && can(perms.filesShare) ? (
                <Button variant="ghost" onClick={() => void revoke(s)} aria-label="Revoke this share">
                  Revoke
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      <Dialog
        open={open}
        title="Share link"
        onClose={() => setOpen(false)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" form="new-share" busy={busy}>
              Create link
            </Button>
          </>
        }
      >
        <form id="new-share" className="flex flex-col gap-3" onSubmit={(e) => void create(e)}>
          <TextField label="Expires after (hours)" type="number" min={1} max={8760} value={hours} onChange={(e) => setHours(e.target.value)} />
          <TextField label="Download limit (empty for none)" type="number" min={1} value={limit} onChange={(e) => setLimit(e.target.value)} />
          <TextField label="Password (optional, at least 8 characters)" type="password" autoComplete="new-password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
        </form>
      </Dialog>
      <Dialog open={created !== null} title="Share link created" onClose={() => setCreated(null)} footer={<Button onClick={() => setCreated(null)}>Done</Button>}>
        <p className="text-sm">Anyone with this link can download the file{created?.password_protected ? ' with the password' : ''}. The link is shown only now.</p>
        <code className="block break-all rounded bg-theme-bg p-2 text-sm" data-testid="share-link">
          {created?.token ? shareLink(created.token) : ''}
        </code>
        <CopyButton text={created?.token ? shareLink(created.token) : ''} label="Copy link" />
      </Dialog>
    </div>
  );
}

function Tags({ file, onChange }: { file: FileDetail; onChange: () => void }) {
  const { can } = useSession();
  const { notifyError } = useNotifications();
  const [tag, setTag] = useState('');
  const add = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const names = tag
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean);
    if (names.length === 0) return;
    try {
      await filesService.addTags(file.id, names);
      setTag('');
      onChange();
    } catch (err) {
      notifyError(err, 'The tag was not added');
    }
  };
  const remove = async (name: string): Promise<void> => {
    try {
      await filesService.removeTags(file.id, [name]);
      onChange();
    } catch (err) {
      notifyError(err, 'The tag was not removed');
    }
  };
  return (
    <div className="flex flex-col gap-2">
      <ul className="flex flex-wrap gap-1" aria-label="Tags">
        {file.tags.length === 0 ? <li className="text-sm text-theme-muted">No tags.</li> : null}
        {file.tags.map((t) => (
          <li key={t} className="flex items-center gap-1 rounded-full border border-theme-border px-2 text-sm">
            #{t}
            {can(perms.filesTag) ? (
              <button type="button" className="btn-theme-ghost px-1 py-0" aria-label={`Remove tag ${t}`} onClick={() => void remove(t)}>
                ×
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {can(perms.filesTag) ? (
        <form className="flex items-end gap-2" onSubmit={(e) => void add(e)}>
          <TextField label="Add tags (comma-separated)" value={tag} onChange={(e) => setTag(e.target.value)} maxLength={200} />
          <Button type="submit" variant="secondary">
            Add
          </Button>
        </form>
      ) : null}
    </div>
  );
}

export default function FileDetailPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { can } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const file = useAsync(() => filesService.get(id), [id]);
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState('');
  const [desc, setDesc] = useState('');
  useLiveEvents(FILES_CHANNEL, (e) => {
    const d = e.data as { id?: string } | null;
    if (d?.id === id) void file.reload();
  });
  // Processing runs in the worker; poll while it is not finished, in case no event arrives.
  const status = file.data?.processing_status;
  useEffect(() => {
    if (status !== 'pending' && status !== 'processing') return undefined;
    const t = setInterval(() => void file.reload(), 3000);
    return () => clearInterval(t);
  }, [status, file.reload]);

  if (file.notFound) return <PageContainer title="File">{<EmptyState title="This file does not exist or was deleted" />}</PageContainer>;
  if (!file.data) return file.loading ? <Loading label="Loading the file" /> : <NotAvailable what="This file" />;
  const f = file.data;

  const download = async (): Promise<void> => {
    try {
      const url = await filesService.signedUrl(f.id);
      window.location.assign(url);
    } catch {
      try {
        saveBlob(await filesService.blob(filesService.downloadPath(f.id)), f.filename);
      } catch (err) {
        notifyError(err, 'The download failed');
      }
    }
  };
  const trash = async (): Promise<void> => {
    try {
      await filesService.trash(f.id);
      showNotification(`${f.filename} moved to the trash`, 'success');
      navigate('/files');
    } catch (err) {
      notifyError(err, 'The file was not deleted');
    }
  };
  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    try {
      await filesService.update(f.id, { filename: name, description: desc });
      setEditing(false);
      showNotification('Saved', 'success');
      await file.reload();
    } catch (err) {
      notifyError(err, 'The changes were not saved');
    }
  };

  const meta: Array<[string, string]> = [
    ['Type', `${f.file_type} (${f.content_type})`],
    ['Size', formatBytes(f.file_size)],
    ['Version', String(f.version)],
    ['Category', f.category],
    ['Visibility', f.visibility],
    ['Uploaded', formatDate(f.created_at)],
    ['Changed', formatDate(f.updated_at)],
    ['Downloads', String(f.download_count)],
    ['SHA-256', f.checksum_sha256],
  ];
  const dims = f.dimensions as { width?: number; height?: number };
  if (dims.width && dims.height) meta.push(['Dimensions', `${dims.width} × ${dims.height}`]);

  return (
    <PageContainer
      title={f.filename}
      description={f.description || undefined}
      actions={
        <>
          {can(perms.filesDownload) ? <Button onClick={() => void download()}>Download</Button> : null}
          {can(perms.filesUpdate) ? (
            <Button
              variant="secondary"
              onClick={() => {
                setName(f.filename);
                setDesc(f.description);
                setEditing(true);
              }}
            >
              Edit
            </Button>
          ) : null}
          {can(perms.filesDelete) ? (
            <Button variant="danger" onClick={() => void trash()} data-testid="trash-file">
              Move to trash
            </Button>
          ) : null}
        </>
      }
    >
      <div className="grid gap-4 xl:grid-cols-2">
        <Section title="Preview" id="preview">
          <Preview file={f} />
        </Section>
        <Section title="Details" id="details">
          <p className="mb-2 text-sm" data-testid="processing-status">
            Processing: <StatusBadge tone={toneOf(f.processing_status)}>{f.processing_status}</StatusBadge>
          </p>
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm" data-testid="file-metadata">
            {meta.map(([k, v]) => (
              <div key={k} className="contents">
                <dt className="text-theme-muted">{k}</dt>
                <dd className="break-all" data-field={k}>
                  {v}
                </dd>
              </div>
            ))}
          </dl>
          {Object.keys(f.metadata).length > 0 ? (
            <details className="mt-3 text-sm">
              <summary className="cursor-pointer">Extracted metadata</summary>
              <pre className="mt-2 max-h-64 overflow-auto rounded bg-theme-bg p-2 text-xs">{JSON.stringify({ ...f.metadata, exif: f.exif_data }, null, 2)}</pre>
            </details>
          ) : null}
        </Section>
        <Section title="Versions" id="versions">
          <Versions file={f} onChange={() => void file.reload()} />
        </Section>
        <Section title="Shares" id="shares">
          <Shares file={f} />
        </Section>
        <Section title="Tags" id="tags">
          <Tags file={f} onChange={() => void file.reload()} />
        </Section>
      </div>
      <Dialog
        open={editing}
        title="Edit file"
        onClose={() => setEditing(false)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setEditing(false)}>
              Cancel
            </Button>
            <Button type="submit" form="edit-file">
              Save
            </Button>
          </>
        }
      >
        <form id="edit-file" className="flex flex-col gap-3" onSubmit={(e) => void save(e)}>
          <TextField label="Name" required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
          <TextField label="Description" maxLength={2000} value={desc} onChange={(e) => setDesc(e.target.value)} />
        </form>
      </Dialog>
    </PageContainer>
  );
}
