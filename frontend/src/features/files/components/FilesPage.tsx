// Files: list or grid, filters, tags and search, upload by button or drag and drop.

import { useEffect, useRef, useState, type DragEvent } from 'react';
import { Link } from 'react-router-dom';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { useAsync } from '@/shared/hooks/useAsync';
import { PageContainer } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { SelectField, TextField } from '@/shared/components/Field';
import { EmptyState, Loading, NotAvailable } from '@/shared/components/Feedback';
import { filesService } from '../services/filesService';
import { uploads } from '../services/uploadManager';
import { useFileList } from '../hooks/useFileList';
import { categoryOptions, fileTypeOptions } from '../utils/fileIcons';
import type { FileFilters } from '../types';
import { FileGrid, FileList } from './FileViews';
import { UploadPanel } from './UploadPanel';

const sortOptions = [
  { value: 'created_at:desc', label: 'Newest first' },
  { value: 'created_at:asc', label: 'Oldest first' },
  { value: 'filename:asc', label: 'Name A–Z' },
  { value: 'filename:desc', label: 'Name Z–A' },
  { value: 'file_size:desc', label: 'Largest first' },
  { value: 'file_size:asc', label: 'Smallest first' },
];

function useViewport(): { height: number; width: number } {
  const [size, setSize] = useState({ height: window.innerHeight, width: window.innerWidth });
  useEffect(() => {
    const on = (): void => setSize({ height: window.innerHeight, width: window.innerWidth });
    window.addEventListener('resize', on);
    return () => window.removeEventListener('resize', on);
  }, []);
  return size;
}

export default function FilesPage() {
  const { can } = useSession();
  const { showNotification } = useNotifications();
  const [view, setView] = useState<'list' | 'grid'>(() => (localStorage.getItem('powernode.files.view') === 'grid' ? 'grid' : 'list'));
  const [search, setSearch] = useState('');
  const [filters, setFilters] = useState<FileFilters>({ sort: 'created_at', order: 'desc' });
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const list = useFileList(filters);
  const tags = useAsync(() => filesService.tags(), []);
  const { height, width } = useViewport();
  const mayUpload = can(perms.filesCreate);

  useEffect(() => localStorage.setItem('powernode.files.view', view), [view]);
  useEffect(
    () =>
      uploads.onCompleted((item) => {
        showNotification(`${item.name} uploaded`, 'success');
        list.reload();
      }),
    [showNotification, list.reload],
  );

  const addFiles = (fl: FileList | null): void => {
    if (!fl || fl.length === 0) return;
    uploads.add([...fl]);
  };
  const onDrop = (e: DragEvent): void => {
    e.preventDefault();
    setDragging(false);
    if (mayUpload) addFiles(e.dataTransfer.files);
  };

  const listHeight = Math.max(320, height - 330);
  const columns = Math.max(2, Math.min(8, Math.floor((width - 300) / 200)));

  return (
    <PageContainer
      title="Files"
      description={list.total !== null ? `${list.total} file${list.total === 1 ? '' : 's'}` : undefined}
      actions={
        <>
          <div role="group" aria-label="View" className="flex">
            <Button variant={view === 'list' ? 'primary' : 'secondary'} aria-pressed={view === 'list'} onClick={() => setView('list')}>
              List
            </Button>
            <Button variant={view === 'grid' ? 'primary' : 'secondary'} aria-pressed={view === 'grid'} onClick={() => setView('grid')}>
              Grid
            </Button>
          </div>
          <Link to="/trash" className="btn-theme-secondary">
            Trash
          </Link>
          {mayUpload ? (
            <>
              <input
                ref={input}
                type="file"
                multiple
                className="sr-only"
                id="file-upload-input"
                data-testid="upload-input"
                aria-label="Choose files to upload"
                onChange={(e) => {
                  addFiles(e.target.files);
                  e.target.value = '';
                }}
              />
              <Button onClick={() => input.current?.click()}>Upload files</Button>
            </>
          ) : null}
        </>
      }
    >
      <div
        onDragOver={(e) => {
          if (!mayUpload) return;
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={(e) => {
          if (e.currentTarget === e.target) setDragging(false);
        }}
        onDrop={onDrop}
        className={`relative rounded-lg ${dragging ? 'outline-dashed outline-2 outline-theme-accent' : ''}`}
        data-testid="drop-zone"
      >
        {dragging ? (
          <div className="pointer-events-none absolute inset-0 z-10 flex items-center justify-center rounded-lg bg-theme-surface/80 text-lg font-semibold">Drop the files to upload them</div>
        ) : null}
        <UploadPanel />
        <form
          role="search"
          className="mb-3 flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters((f) => ({ ...f, q: search.trim() || undefined }));
          }}
        >
          <div className="w-64">
            <TextField label="Search by name" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
          </div>
          <div className="w-40">
            <SelectField label="Type" value={filters.file_type ?? ''} options={fileTypeOptions} onChange={(e) => setFilters((f) => ({ ...f, file_type: e.target.value || undefined }))} />
          </div>
          <div className="w-44">
            <SelectField label="Category" value={filters.category ?? ''} options={categoryOptions} onChange={(e) => setFilters((f) => ({ ...f, category: e.target.value || undefined }))} />
          </div>
          <div className="w-40">
            <SelectField
              label="Tag"
              value={filters.tag ?? ''}
              options={[{ value: '', label: 'Any tag' }, ...(tags.data ?? []).map((t) => ({ value: t.name, label: t.name }))]}
              onChange={(e) => setFilters((f) => ({ ...f, tag: e.target.value || undefined }))}
            />
          </div>
          <div className="w-44">
            <SelectField
              label="Sort"
              value={`${filters.sort ?? 'created_at'}:${filters.order ?? 'desc'}`}
              options={sortOptions}
              onChange={(e) => {
                const [sort, order] = e.target.value.split(':') as [FileFilters['sort'], FileFilters['order']];
                setFilters((f) => ({ ...f, sort, order }));
              }}
            />
          </div>
          <Button type="submit" variant="secondary">
            Search
          </Button>
        </form>
        {list.notFound ? <NotAvailable what="File management" /> : null}
        {list.loading && list.files.length === 0 && !list.notFound ? <Loading label="Loading files" /> : null}
        {!list.loading && !list.notFound && list.files.length === 0 ? (
          <EmptyState title="No files here yet">{mayUpload ? 'Upload with the button above or drop files on this page.' : null}</EmptyState>
        ) : null}
        {list.files.length > 0 ? view === 'list' ? <FileList files={list.files} height={listHeight} /> : <FileGrid files={list.files} height={listHeight} columns={columns} /> : null}
      </div>
    </PageContainer>
  );
}
