// Uploads in flight, kept outside React so they go on while the user moves between pages.
// Small files: one multipart POST with progress. Large files: tus, with pause and resume; an
// upload cut by a reload is listed as interrupted and continues when the same file is chosen.

import { api } from '@/shared/api/instance';
import { ApiError, asEnvelope } from '@/shared/api/types';
import { logger, errorMessage } from '@/shared/utils/logger';
import { RESUMABLE_THRESHOLD, TUS_ENDPOINT } from './filesService';
import { TusAbortedError, TusUpload, fingerprint, localResumeStore, xhrTransport, type StoredUpload } from './tusClient';

export type UploadStatus = 'queued' | 'uploading' | 'paused' | 'done' | 'failed' | 'interrupted';

export interface UploadItem {
  id: string;
  name: string;
  size: number;
  uploaded: number;
  status: UploadStatus;
  resumable: boolean;
  error?: string;
  fileId?: string | null;
  fingerprint?: string;
}

type Listener = (items: UploadItem[]) => void;

const store = localResumeStore(typeof window !== 'undefined' ? window.localStorage : null);

function authHeaders(): Record<string, string> {
  const t = api.tokens.get();
  return t ? { Authorization: `Bearer ${t.accessToken}` } : {};
}

/** One multipart upload through XHR (fetch cannot report upload progress). */
function simpleUpload(file: File, onProgress: (n: number) => void, signal: AbortSignal, retried = false): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/files/upload');
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.onload = () => {
      let doc: unknown = null;
      try {
        doc = JSON.parse(xhr.responseText);
      } catch {
        doc = null;
      }
      const env = asEnvelope(doc);
      if (xhr.status === 401 && !retried) {
        void api.refreshAfter(api.tokens.get()).then((ok) => (ok ? simpleUpload(file, onProgress, signal, true).then(resolve, reject) : reject(new ApiError(401, 'not signed in'))));
        return;
      }
      if (xhr.status >= 200 && xhr.status < 300 && env?.success) {
        const d = env.data as { id?: string; file?: { id?: string } };
        resolve(d.id ?? d.file?.id ?? null);
      } else {
        reject(new ApiError(xhr.status, env && !env.success ? env.error : `upload failed (HTTP ${xhr.status})`, env && !env.success ? env.details : []));
      }
    };
    xhr.onerror = () => reject(new Error('network error'));
    xhr.onabort = () => reject(new TusAbortedError());
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

let seq = 0;

export class UploadManager {
  private items: UploadItem[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly tus = new Map<string, TusUpload>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly files = new Map<string, File>();
  private readonly completed = new Set<(item: UploadItem) => void>();
  threshold = RESUMABLE_THRESHOLD;

  constructor() {
    // Resumable uploads a previous page load left unfinished.
    for (const [fp, s] of store.list()) this.items.push(this.interrupted(fp, s));
  }

  private interrupted(fp: string, s: StoredUpload): UploadItem {
    return { id: `u${++seq}`, name: s.name, size: s.size, uploaded: 0, status: 'interrupted', resumable: true, fingerprint: fp };
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    l(this.items);
    return () => this.listeners.delete(l);
  }

  onCompleted(cb: (item: UploadItem) => void): () => void {
    this.completed.add(cb);
    return () => this.completed.delete(cb);
  }

  private update(id: string, change: Partial<UploadItem>): void {
    this.items = this.items.map((i) => (i.id === id ? { ...i, ...change } : i));
    this.listeners.forEach((l) => l(this.items));
    const it = this.items.find((i) => i.id === id);
    if (it && change.status === 'done') this.completed.forEach((cb) => cb(it));
  }

  add(files: readonly File[]): void {
    for (const file of files) {
      const fp = fingerprint(file, TUS_ENDPOINT);
      // The same file chosen again continues its interrupted upload.
      const waiting = this.items.find((i) => i.status === 'interrupted' && i.fingerprint === fp);
      const id = waiting?.id ?? `u${++seq}`;
      this.files.set(id, file);
      if (waiting) {
        this.update(id, { status: 'queued', error: undefined });
      } else {
        const resumable = file.size > this.threshold;
        this.items = [...this.items, { id, name: file.name, size: file.size, uploaded: 0, status: 'queued', resumable, fingerprint: fp }];
        this.listeners.forEach((l) => l(this.items));
      }
      void this.run(id);
    }
  }

  private async run(id: string): Promise<void> {
    const file = this.files.get(id);
    const item = this.items.find((i) => i.id === id);
    if (!file || !item) return;
    this.update(id, { status: 'uploading', error: undefined });
    try {
      if (item.resumable) {
        let up = this.tus.get(id);
        if (!up) {
          up = new TusUpload({
            endpoint: TUS_ENDPOINT,
            file,
            transport: xhrTransport,
            store,
            headers: authHeaders,
            onUnauthorized: () => api.refreshAfter(api.tokens.get()),
            onProgress: (n) => this.update(id, { uploaded: n }),
          });
          this.tus.set(id, up);
        }
        const r = await up.start();
        this.update(id, { status: 'done', uploaded: file.size, fileId: r.fileId });
      } else {
        const ctrl = new AbortController();
        this.aborts.set(id, ctrl);
        const fileId = await simpleUpload(file, (n) => this.update(id, { uploaded: n }), ctrl.signal);
        this.update(id, { status: 'done', uploaded: file.size, fileId });
      }
      this.tus.delete(id);
      this.files.delete(id);
    } catch (err) {
      if (err instanceof TusAbortedError) {
        this.update(id, { status: 'paused' });
        return;
      }
      logger.warn('upload failed', { name: file.name, error: errorMessage(err) });
      this.update(id, { status: 'failed', error: errorMessage(err) });
    } finally {
      this.aborts.delete(id);
    }
  }

  pause(id: string): void {
    this.tus.get(id)?.pause();
    this.aborts.get(id)?.abort();
  }

  resume(id: string): void {
    if (this.files.has(id)) void this.run(id);
  }

  async cancel(id: string): Promise<void> {
    const up = this.tus.get(id);
    const item = this.items.find((i) => i.id === id);
    this.aborts.get(id)?.abort();
    if (up) await up.terminate();
    else if (item?.fingerprint) {
      const stored = store.get(item.fingerprint);
      store.remove(item.fingerprint);
      if (stored) {
        // Termination: the server frees the reserved quota at once.
        await fetch(stored.url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', ...authHeaders() } }).catch(() => undefined);
      }
    }
    this.tus.delete(id);
    this.files.delete(id);
    this.items = this.items.filter((i) => i.id !== id);
    this.listeners.forEach((l) => l(this.items));
  }

  clearFinished(): void {
    this.items = this.items.filter((i) => i.status !== 'done');
    this.listeners.forEach((l) => l(this.items));
  }
}

export const uploads = new UploadManager();
