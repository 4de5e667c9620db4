// Uploads with a progress bar each; pause, resume and cancel for resumable ones; interrupted
// uploads (after a reload) continue when the same file is chosen again.

import { useId, useRef } from 'react';
import { Button } from '@/shared/components/Button';
import { StatusBadge, toneOf } from '@/shared/components/Feedback';
import { formatBytes } from '@/shared/utils/format';
import { useUploads } from '../hooks/useUploads';
import { uploads, type UploadItem } from '../services/uploadManager';

function Row({ item }: { item: UploadItem }) {
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const pct = item.size > 0 ? Math.floor((item.uploaded / item.size) * 100) : 100;
  return (
    <li className="flex flex-col gap-1 border-t border-theme-border py-2 first:border-t-0" data-testid="upload-item" data-status={item.status}>
      <div className="flex items-center justify-between gap-2 text-sm">
        <span className="truncate font-medium" title={item.name}>
          {item.name}
        </span>
        <span className="flex items-center gap-2">
          <span className="text-xs text-theme-muted">
            {formatBytes(item.uploaded)} / {formatBytes(item.size)}
          </span>
          <StatusBadge tone={item.status === 'done' ? 'ok' : item.status === 'failed' ? 'bad' : toneOf(item.status === 'uploading' ? 'processing' : '')}>{item.status}</StatusBadge>
        </span>
      </div>
      <progress className="h-2 w-full" max={100} value={pct} aria-label={`Upload of ${item.name}`} aria-valuetext={`${pct}%`} />
      {item.error ? <p className="text-xs text-theme-danger">{item.error}</p> : null}
      <div className="flex gap-2">
        {item.status === 'uploading' && item.resumable ? (
          <Button variant="ghost" onClick={() => uploads.pause(item.id)} aria-label={`Pause ${item.name}`}>
            Pause
          </Button>
        ) : null}
        {item.status === 'paused' || item.status === 'failed' ? (
          <Button variant="ghost" onClick={() => uploads.resume(item.id)} aria-label={`Resume ${item.name}`}>
            Resume
          </Button>
        ) : null}
        {item.status === 'interrupted' ? (
          <>
            <label htmlFor={inputId} className="sr-only">
              Choose {item.name} again to resume
            </label>
            <input
              ref={input}
              id={inputId}
              type="file"
              className="sr-only"
              data-testid="resume-input"
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) uploads.add([f]);
                e.target.value = '';
              }}
            />
            <Button variant="ghost" onClick={() => input.current?.click()}>
              Choose the file to resume
            </Button>
          </>
        ) : null}
        {item.status !== 'done' ? (
          <Button variant="ghost" onClick={() => void uploads.cancel(item.id)} aria-label={`Cancel ${item.name}`}>
            Cancel
          </Button>
        ) : null}
      </div>
    </li>
  );
}

export function UploadPanel() {
  const items = useUploads();
  if (items.length === 0) return null;
  return (
    <section className="card-theme mb-4" aria-labelledby="uploads-title">
      <div className="flex items-center justify-between">
        <h2 id="uploads-title" className="text-base font-semibold">
          Uploads
        </h2>
        <Button variant="ghost" onClick={() => uploads.clearFinished()}>
          Clear finished
        </Button>
      </div>
      <ul className="mt-2" data-testid="uploads">
        {items.map((i) => (
          <Row key={i.id} item={i} />
        ))}
      </ul>
    </section>
  );
}
