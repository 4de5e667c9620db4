// Every file matching the filters, loaded page after page (the first page shows at once),
// reloaded when the live stream reports a change, and with the files still being processed by
// the worker watched until they are done.

import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '@/shared/api/types';
import { useLiveEvents } from '@/shared/hooks/useLiveEvents';
import { logger, errorMessage } from '@/shared/utils/logger';
import { FILES_CHANNEL, filesService } from '../services/filesService';
import type { FileFilters, FileRecord } from '../types';

/** At most this many files in processing are watched at once (the newest first in the list). */
export const MAX_WATCHED = 25;
const WATCH_FIRST_MS = 1500;
const WATCH_MAX_MS = 15_000;
const WATCH_FOR_MS = 10 * 60_000;

const inProcessing = (f: FileRecord): boolean => f.processing_status === 'pending' || f.processing_status === 'processing';

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

  // The end of a worker's processing may not reach the live stream (the worker reports to the
  // server, not to this account's stream): poll the few files still in processing, backing off
  // while nothing changes, and patch them into the list so thumbnails appear without a reload.
  const watched = trash ? '' : files.filter(inProcessing).slice(0, MAX_WATCHED).map((f) => f.id).join(',');
  useEffect(() => {
    if (!watched) return undefined;
    const ids = watched.split(',');
    const started = Date.now();
    let delay = WATCH_FIRST_MS;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      const got = await Promise.all(ids.map((id) => filesService.get(id).catch(() => null)));
      if (!alive) return;
      const done = new Map<string, FileRecord>();
      for (const g of got) {
        if (g && !inProcessing(g)) {
          const { versions: _v, urls: _u, ...rec } = g;
          done.set(g.id, rec);
        }
      }
      if (done.size > 0) {
        // The effect starts again with the files left.
        setFiles((prev) => prev.map((f) => done.get(f.id) ?? f));
        return;
      }
      delay = Math.min(delay * 1.5, WATCH_MAX_MS);
      if (Date.now() - started < WATCH_FOR_MS) timer = setTimeout(() => void tick(), delay);
    };
    timer = setTimeout(() => void tick(), delay);
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [watched]);

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
