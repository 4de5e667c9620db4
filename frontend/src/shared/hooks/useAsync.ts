// Load data for a page: state for loading, error and the result, with reload. A 404 is kept
// apart (notFound) so pages can show "not available" for APIs the server does not have yet.

import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';
import { ApiError } from '@/shared/api/types';
import { logger, errorMessage } from '@/shared/utils/logger';

export interface AsyncState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  notFound: boolean;
  reload: () => Promise<void>;
  setData: (update: T | null | ((prev: T | null) => T | null)) => void;
}

export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): AsyncState<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [notFound, setNotFound] = useState(false);
  const loadRef = useRef(load);
  loadRef.current = load;
  const ctrlRef = useRef<AbortController | null>(null);

  const run = useCallback(async () => {
    ctrlRef.current?.abort();
    const ctrl = new AbortController();
    ctrlRef.current = ctrl;
    setLoading(true);
    try {
      const v = await loadRef.current(ctrl.signal);
      if (ctrl.signal.aborted) return;
      setData(v);
      setError(null);
      setNotFound(false);
    } catch (err) {
      if (ctrl.signal.aborted) return;
      if (err instanceof DOMException && err.name === 'AbortError') return;
      setError(err);
      setNotFound(err instanceof ApiError && err.status === 404);
      logger.debug('load failed', { error: errorMessage(err) });
    } finally {
      if (!ctrl.signal.aborted) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void run();
    return () => ctrlRef.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  return { data, error, loading, notFound, reload: run, setData };
}
