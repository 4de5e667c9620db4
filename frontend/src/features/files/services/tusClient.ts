// A tus 1.0 client (core + creation + termination) for large uploads: the file goes up in
// chunks, the upload URL is remembered per file fingerprint so an interrupted upload - paused,
// failed, or cut by a page reload - continues from the offset the server reports (HEAD)
// when the same file is chosen again. Transport and storage are injected for tests.

export const TUS_VERSION = '1.0.0';

export interface TusRequest {
  method: 'POST' | 'HEAD' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: Blob;
  onProgress?: (sentBytes: number) => void;
  signal: AbortSignal;
}

export interface TusResponse {
  status: number;
  header(name: string): string | null;
  body?: string;
}

export type TusTransport = (req: TusRequest) => Promise<TusResponse>;

export interface ResumeStore {
  get(fingerprint: string): StoredUpload | null;
  set(fingerprint: string, value: StoredUpload): void;
  remove(fingerprint: string): void;
  list(): Array<[string, StoredUpload]>;
}

export interface StoredUpload {
  url: string;
  name: string;
  size: number;
  createdAt: number;
}

export interface TusFile {
  name: string;
  size: number;
  type: string;
  lastModified: number;
  slice(start: number, end: number): Blob;
}

export interface TusOptions {
  endpoint: string;
  file: TusFile;
  transport: TusTransport;
  store: ResumeStore;
  chunkSize?: number;
  metadata?: Record<string, string>;
  /** Headers for every request (Authorization), read anew each time so refreshed tokens apply. */
  headers?: () => Record<string, string>;
  /** Called on 401; resolve true to retry with fresh headers. */
  onUnauthorized?: () => Promise<boolean>;
  onProgress?: (uploaded: number, total: number) => void;
  /** Delays (ms) before retrying after a network error or 5xx; its length bounds the retries. */
  retryDelays?: number[];
  sleep?: (ms: number) => Promise<void>;
}

export type TusResult = { url: string; fileId: string | null };

export class TusError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'TusError';
    this.status = status;
  }
}

export class TusAbortedError extends Error {
  constructor() {
    super('upload paused');
    this.name = 'TusAbortedError';
  }
}

export function fingerprint(file: TusFile, endpoint: string): string {
  return `tus::${endpoint}::${file.name}::${file.size}::${file.lastModified}`;
}

function b64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  bytes.forEach((b) => {
    bin += String.fromCharCode(b);
  });
  return btoa(bin);
}

export function encodeMetadata(meta: Record<string, string>): string {
  return Object.entries(meta)
    .filter(([k]) => /^[A-Za-z0-9_.-]+$/.test(k))
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(',');
}

function resolveUrl(location: string, base: string): string {
  try {
    const origin = typeof window !== 'undefined' ? window.location.origin : 'http://localhost';
    return new URL(location, new URL(base, origin)).toString().replace(origin, '');
  } catch {
    return location;
  }
}

export class TusUpload {
  private readonly o: Required<Omit<TusOptions, 'metadata' | 'headers' | 'onUnauthorized' | 'onProgress'>> & TusOptions;
  private ctrl: AbortController | null = null;
  private url: string | null = null;
  offset = 0;

  constructor(opts: TusOptions) {
    this.o = {
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [1000, 3000, 5000, 10000],
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...opts,
    };
  }

  get fingerprint(): string {
    return fingerprint(this.o.file, this.o.endpoint);
  }

  get uploadUrl(): string | null {
    return this.url;
  }

  /** Stop sending; the upload can be resumed later (start() again), even after a reload. */
  pause(): void {
    this.ctrl?.abort();
  }

  /** Upload (or resume) to the end. Rejects with TusAbortedError when paused. */
  async start(): Promise<TusResult> {
    this.ctrl = new AbortController();
    const signal = this.ctrl.signal;
    const { file } = this.o;
    let lastResponse: TusResponse | null = null;

    const stored = this.o.store.get(this.fingerprint);
    if (stored) {
      const head = await this.call({ method: 'HEAD', url: stored.url, headers: {}, signal });
      const off = Number(head.header('Upload-Offset'));
      if (head.status >= 200 && head.status < 300 && Number.isFinite(off) && off >= 0 && off <= file.size) {
        this.url = stored.url;
        this.offset = off;
      } else {
        // Expired, finished or unknown upload: start again.
        this.o.store.remove(this.fingerprint);
      }
    }
    if (!this.url) {
      const meta = encodeMetadata({ filename: file.name, filetype: file.type || 'application/octet-stream', ...(this.o.metadata ?? {}) });
      const res = await this.call({
        method: 'POST',
        url: this.o.endpoint,
        headers: { 'Upload-Length': String(file.size), 'Upload-Metadata': meta },
        signal,
      });
      const loc = res.header('Location');
      if (res.status !== 201 || !loc) throw new TusError(`could not create the upload (HTTP ${res.status})`, res.status);
      this.url = resolveUrl(loc, this.o.endpoint);
      this.offset = 0;
      this.o.store.set(this.fingerprint, { url: this.url, name: file.name, size: file.size, createdAt: Date.now() });
      lastResponse = res;
    }
    this.o.onProgress?.(this.offset, file.size);

    let stalls = 0;
    while (this.offset < file.size) {
      const end = Math.min(this.offset + this.o.chunkSize, file.size);
      const base = this.offset;
      const res = await this.call({
        method: 'PATCH',
        url: this.url,
        headers: { 'Upload-Offset': String(base), 'Content-Type': 'application/offset+octet-stream' },
        body: file.slice(base, end),
        onProgress: (sent) => this.o.onProgress?.(base + sent, file.size),
        signal,
      });
      const busy = res.status >= 500 || res.status === 423 || res.status === 429;
      if (res.status === 409 || busy) {
        // Offsets disagree (a chunk arrived but its reply was lost) or the server failed part
        // way: wait, ask the server where it is, and go on from there - a bounded number of
        // times without progress.
        stalls += 1;
        if (stalls > this.o.retryDelays.length) throw new TusError(`upload stalled (HTTP ${res.status})`, res.status);
        await this.o.sleep(this.o.retryDelays[stalls - 1] ?? 1000);
        const head = await this.call({ method: 'HEAD', url: this.url, headers: {}, signal });
        const off = Number(head.header('Upload-Offset'));
        if (!Number.isFinite(off)) throw new TusError('the server lost the upload offset', head.status);
        this.offset = off;
        continue;
      }
      if (res.status === 404 || res.status === 410) {
        this.o.store.remove(this.fingerprint);
        throw new TusError('the server no longer has this upload; start it again', res.status);
      }
      if (res.status !== 204 && res.status !== 200) throw new TusError(`chunk refused (HTTP ${res.status})`, res.status);
      const off = Number(res.header('Upload-Offset'));
      this.offset = Number.isFinite(off) && off > base ? off : end;
      stalls = 0;
      this.o.onProgress?.(this.offset, file.size);
      lastResponse = res;
    }
    this.o.store.remove(this.fingerprint);
    return { url: this.url, fileId: lastResponse?.header('Upload-File-Id') ?? lastResponse?.header('X-File-Id') ?? null };
  }

  /** Abandon the upload and ask the server to delete what it received (termination). */
  async terminate(): Promise<void> {
    this.pause();
    const url = this.url ?? this.o.store.get(this.fingerprint)?.url ?? null;
    this.o.store.remove(this.fingerprint);
    if (!url) return;
    const ctrl = new AbortController();
    try {
      await this.o.transport({ method: 'DELETE', url, headers: this.headers({}), signal: ctrl.signal });
    } catch {
      // Best effort: the server's sweeper removes abandoned uploads.
    }
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { 'Tus-Resumable': TUS_VERSION, ...(this.o.headers?.() ?? {}), ...extra };
  }

  /** One request with the 401-refresh-once rule and bounded retries on network errors and 5xx. */
  private async call(req: Omit<TusRequest, 'headers'> & { headers: Record<string, string> }): Promise<TusResponse> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      if (req.signal.aborted) throw new TusAbortedError();
      let res: TusResponse | null = null;
      try {
        res = await this.o.transport({ ...req, headers: this.headers(req.headers) });
      } catch (err) {
        if (req.signal.aborted) throw new TusAbortedError();
        if (attempt >= this.o.retryDelays.length) throw err instanceof Error ? err : new Error(String(err));
      }
      if (res) {
        if (res.status === 401 && !refreshed && this.o.onUnauthorized) {
          refreshed = true;
          if (await this.o.onUnauthorized()) {
            attempt -= 1;
            continue;
          }
        }
        const retriable = res.status >= 500 || res.status === 423 || res.status === 429;
        // A failed PATCH goes back to start(), which re-reads the offset before sending again.
        if (!retriable || attempt >= this.o.retryDelays.length || req.method === 'PATCH') {
          if (res.status === 401 || res.status === 403) throw new TusError(res.status === 401 ? 'not signed in' : 'not allowed', res.status);
          return res;
        }
      }
      await this.o.sleep(this.o.retryDelays[attempt] ?? 1000);
    }
  }
}

/** ResumeStore over localStorage (survives reloads). */
export function localResumeStore(storage: Storage | null): ResumeStore {
  const prefix = 'powernode.tus.';
  const mem = new Map<string, StoredUpload>();
  const parse = (raw: string | null): StoredUpload | null => {
    if (!raw) return null;
    try {
      const v = JSON.parse(raw) as Partial<StoredUpload>;
      return typeof v.url === 'string' && typeof v.size === 'number' ? (v as StoredUpload) : null;
    } catch {
      return null;
    }
  };
  return {
    get: (fp) => (storage ? parse(storage.getItem(prefix + fp)) : mem.get(fp) ?? null),
    set: (fp, v) => (storage ? storage.setItem(prefix + fp, JSON.stringify(v)) : void mem.set(fp, v)),
    remove: (fp) => (storage ? storage.removeItem(prefix + fp) : void mem.delete(fp)),
    list() {
      if (!storage) return [...mem.entries()];
      const out: Array<[string, StoredUpload]> = [];
      for (let i = 0; i < storage.length; i++) {
        const k = storage.key(i);
        if (!k?.startsWith(prefix)) continue;
        const v = parse(storage.getItem(k));
        if (v) out.push([k.slice(prefix.length), v]);
      }
      return out;
    },
  };
}

/** The browser transport: XMLHttpRequest, because fetch() cannot report upload progress. */
export const xhrTransport: TusTransport = (req) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(req.method, req.url);
    for (const [k, v] of Object.entries(req.headers)) xhr.setRequestHeader(k, v);
    if (req.onProgress) {
      const cb = req.onProgress;
      xhr.upload.onprogress = (e) => cb(e.loaded);
    }
    const onAbort = (): void => xhr.abort();
    req.signal.addEventListener('abort', onAbort, { once: true });
    xhr.onload = () => {
      req.signal.removeEventListener('abort', onAbort);
      resolve({ status: xhr.status, header: (n) => xhr.getResponseHeader(n), body: xhr.responseText });
    };
    xhr.onerror = () => reject(new Error('network error'));
    xhr.onabort = () => reject(new TusAbortedError());
    xhr.send(req.body ?? null);
  });
