// Every file matching the filters, loaded page after page (the first page shows at once), and
// reloaded when the live stream reports a change.

import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '@/shared/api/types';
import { useLiveEvents } from '@/shared/hooks/useLiveEvents';
import { logger, errorMessage } from '@/shared/utils/logger';
import { FILES_CHANNEL, filesService } from '../services/filesService';
import type { FileFilters, FileRecord } from '../types';

export interface FileListState {
  files: FileRecord[];
  total: number | null;
  loading: boolean;
  notFound: boolean;
  error: unknown;
  reload: () => void;
}

export function useFileList(filters: FileFilters, trash = false): FileListState {
  const [files, setFiles] = useState<FileRecord[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [notFound, setNotFound] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const debounce = useRef<ReturnType<typeof setTimeout> | null>(null);
  const key = JSON.stringify(filters);

  useEffect(() => {
    const ctrl = new AbortController();
    let acc: FileRecord[] = [];
    let first = true;
    setLoading(true);
    filesService
      .all(
        JSON.parse(key) as FileFilters,
        (page, t) => {
          if (ctrl.signal.aborted) return;
          acc = first ? page : acc.concat(page);
          first = false;
          setFiles(acc);
          setTotal(t);
        },
        ctrl.signal,
        trash,
      )
      .then(() => {
        if (ctrl.signal.aborted) return;
        if (first) setFiles([]);
        setError(null);
        setNotFound(false);
      })
      .catch((err: unknown) => {
        if (ctrl.signal.aborted) return;
        logger.debug('file list failed', { error: errorMessage(err) });
        setError(err);
        setNotFound(err instanceof ApiError && err.status === 404);
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [key, trash, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);

  useLiveEvents(FILES_CHANNEL, () => {
    // Bursts of events (a batch upload) give one reload.
    if (debounce.current) clearTimeout(debounce.current);
    debounce.current = setTimeout(reload, 300);
  });
  useEffect(() => () => {
    if (debounce.current) clearTimeout(debounce.current);
  }, []);

  return { files, total, loading, notFound, error, reload };
}
