// The file list and grid, both windowed (VirtualList) so 1,000+ files stay fast.

import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { VirtualList } from '@/shared/components/VirtualList';
import { StatusBadge, toneOf } from '@/shared/components/Feedback';
import { formatBytes, formatDate } from '@/shared/utils/format';
import { useThumbnail } from '../hooks/useThumbnail';
import { fileIcon } from '../utils/fileIcons';
import type { FileRecord } from '../types';

function Thumb({ file, size }: { file: FileRecord; size: 'sm' | 'lg' }) {
  const url = useThumbnail(file);
  const box = size === 'sm' ? 'h-8 w-8 text-[9px] font-bold text-theme-muted' : 'h-24 w-full text-2xl font-bold text-theme-muted';
  if (url) return <img src={url} alt="" className={`${box} rounded object-cover`} data-testid="thumbnail" />;
  return (
    <span aria-hidden="true" className={`${box} flex items-center justify-center rounded bg-theme-bg`}>
      {fileIcon(file.file_type)}
    </span>
  );
}

export function FileList({ files, height, trash = false, actions }: { files: readonly FileRecord[]; height: number; trash?: boolean; actions?: (f: FileRecord) => ReactNode }) {
  return (
    <div>
      <div className="grid grid-cols-[2.5rem_1fr_7rem_6rem_9rem_11rem_auto] gap-2 px-3 py-1 text-xs font-medium text-theme-muted" aria-hidden="true">
        <span />
        <span>Name</span>
        <span>Type</span>
        <span>Size</span>
        <span>Status</span>
        <span>{trash ? 'Deleted' : 'Uploaded'}</span>
        <span />
      </div>
      <VirtualList
        label="Files"
        items={files}
        rowHeight={48}
        height={height}
        itemKey={(f) => f.id}
        renderItem={(f) => (
          <div className="grid h-full grid-cols-[2.5rem_1fr_7rem_6rem_9rem_11rem_auto] items-center gap-2 border-b border-theme-border px-3 text-sm" data-testid="file-row">
            <Thumb file={f} size="sm" />
            <span className="min-w-0">
              {trash ? (
                <span className="block truncate">{f.filename}</span>
              ) : (
                <Link to={`/files/${f.id}`} className="block truncate text-theme-text hover:underline">
                  {f.filename}
                </Link>
              )}
              {f.tags.length ? <span className="block truncate text-xs text-theme-muted">{f.tags.map((t) => `#${t}`).join(' ')}</span> : null}
            </span>
            <span>{f.file_type}</span>
            <span>{formatBytes(f.file_size)}</span>
            <span>
              <StatusBadge tone={toneOf(f.processing_status)}>{f.processing_status}</StatusBadge>
            </span>
            <span className="text-xs">{formatDate(trash ? f.deleted_at : f.created_at)}</span>
            <span className="flex gap-1">{actions ? actions(f) : null}</span>
          </div>
        )}
      />
    </div>
  );
}

export function FileGrid({ files, height, columns }: { files: readonly FileRecord[]; height: number; columns: number }) {
  return (
    <VirtualList
      label="Files"
      items={files}
      rowHeight={190}
      columns={columns}
      height={height}
      itemKey={(f) => f.id}
      renderItem={(f) => (
        <div className="h-full p-2" data-testid="file-card">
          <Link to={`/files/${f.id}`} className="flex h-full flex-col gap-1 rounded-md border border-theme-border bg-theme-surface p-2 text-sm hover:border-theme-accent">
            <Thumb file={f} size="lg" />
            <span className="truncate font-medium" title={f.filename}>
              {f.filename}
            </span>
            <span className="flex items-center justify-between text-xs text-theme-muted">
              <span>{formatBytes(f.file_size)}</span>
              <StatusBadge tone={toneOf(f.processing_status)}>{f.processing_status}</StatusBadge>
            </span>
          </Link>
        </div>
      )}
    />
  );
}
