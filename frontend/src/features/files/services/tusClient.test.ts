import { describe, expect, it } from 'vitest';
import { TusAbortedError, TusUpload, fingerprint, localResumeStore, type TusRequest, type TusResponse, type TusTransport } from './tusClient';

/** jsdom's Blob has no arrayBuffer(); FileReader it has. */
function readBlob(b: Blob): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(new Uint8Array(r.result as ArrayBuffer));
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(b);
  });
}

/** An in-memory tus 1.0 server. */
class FakeTus {
  uploads = new Map<string, { length: number; data: Uint8Array; offset: number }>();
  log: string[] = [];
  next = 1;
  failNextPatch = 0;
  unauthorizedOnce = false;
  token = 'good';
  /** Called before a PATCH is answered (lets a test pause mid-upload). */
  onPatch: ((r: TusRequest) => void) | null = null;

  transport: TusTransport = async (req) => {
    this.log.push(`${req.method} ${req.url}`);
    expect(req.headers['Tus-Resumable']).toBe('1.0.0');
    if (req.headers.Authorization !== `Bearer ${this.token}` || this.unauthorizedOnce) {
      this.unauthorizedOnce = false;
      return this.res(401);
    }
    if (req.signal.aborted) throw new TusAbortedError();
    if (req.method === 'POST') {
      const id = `u${this.next++}`;
      const length = Number(req.headers['Upload-Length']);
      this.uploads.set(id, { length, data: new Uint8Array(length), offset: 0 });
      return this.res(201, { Location: `/api/v1/files/uploads/${id}`, 'Upload-Offset': '0' });
    }
    const id = req.url.split('/').pop() ?? '';
    const up = this.uploads.get(id);
    if (!up) return this.res(404);
    if (req.method === 'HEAD') return this.res(200, { 'Upload-Offset': String(up.offset), 'Upload-Length': String(up.length) });
    if (req.method === 'DELETE') {
      this.uploads.delete(id);
      return this.res(204);
    }
    // PATCH
    if (this.failNextPatch > 0) {
      this.failNextPatch -= 1;
      return this.res(503);
    }
    if (Number(req.headers['Upload-Offset']) !== up.offset) return this.res(409);
    this.onPatch?.(req);
    if (req.signal.aborted) throw new TusAbortedError();
    const chunk = await readBlob(req.body as Blob);
    up.data.set(chunk, up.offset);
    up.offset += chunk.length;
    req.onProgress?.(chunk.length);
    const headers: Record<string, string> = { 'Upload-Offset': String(up.offset) };
    if (up.offset === up.length) headers['X-File-Id'] = `file-${id}`;
    return this.res(204, headers);
  };

  private res(status: number, headers: Record<string, string> = {}): TusResponse {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    return { status, header: (n) => lower[n.toLowerCase()] ?? null };
  }
}

function fileOf(size: number): File {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) % 251;
  return new File([bytes], 'big.bin', { type: 'application/octet-stream', lastModified: 1700000000000 });
}

function make(server: FakeTus, file: File, store = localResumeStore(null), extra: Partial<ConstructorParameters<typeof TusUpload>[0]> = {}): TusUpload {
  return new TusUpload({
    endpoint: '/api/v1/files/uploads',
    file,
    transport: server.transport,
    store,
    chunkSize: 1000,
    headers: () => ({ Authorization: `Bearer ${server.token}` }),
    retryDelays: [0, 0],
    sleep: async () => undefined,
    ...extra,
  });
}

function bytesOf(file: File): Promise<Uint8Array> {
  return readBlob(file);
}

describe('tus client', () => {
  it('creates the upload, sends every chunk and reports the file id', async () => {
    const s = new FakeTus();
    const file = fileOf(4500);
    const progress: number[] = [];
    const r = await make(s, file, undefined, { onProgress: (n) => progress.push(n) }).start();
    expect(r.fileId).toBe('file-u1');
    expect(s.log.filter((l) => l.startsWith('PATCH'))).toHaveLength(5);
    expect(s.uploads.get('u1')?.data).toEqual(await bytesOf(file));
    expect(progress.at(-1)).toBe(4500);
  });

  it('pauses, then resumes from the offset the server reports, across a "reload"', async () => {
    const s = new FakeTus();
    const file = fileOf(5000);
    // localStorage-backed store, as in the browser: it survives the page.
    const store = localResumeStore(window.localStorage);
    const first = make(s, file, store);
    let patches = 0;
    s.onPatch = () => {
      patches += 1;
      if (patches === 3) first.pause();
    };
    await expect(first.start()).rejects.toBeInstanceOf(TusAbortedError);
    expect(s.uploads.get('u1')?.offset).toBe(2000);
    expect(store.get(fingerprint(file, '/api/v1/files/uploads'))?.url).toBe('/api/v1/files/uploads/u1');

    // A new page: a new client object, the same file chosen again.
    s.onPatch = null;
    s.log = [];
    const second = make(s, fileOf(5000), localResumeStore(window.localStorage));
    const r = await second.start();
    expect(s.log[0]).toBe('HEAD /api/v1/files/uploads/u1');
    expect(s.log.filter((l) => l.startsWith('POST'))).toHaveLength(0);
    expect(s.log.filter((l) => l.startsWith('PATCH'))).toHaveLength(3);
    expect(r.fileId).toBe('file-u1');
    expect(s.uploads.get('u1')?.data).toEqual(await bytesOf(file));
    expect(store.list()).toHaveLength(0);
  });

  it('starts over when the server forgot the upload', async () => {
    const s = new FakeTus();
    const file = fileOf(1500);
    const store = localResumeStore(null);
    store.set(fingerprint(file, '/api/v1/files/uploads'), { url: '/api/v1/files/uploads/gone', name: 'big.bin', size: 1500, createdAt: 0 });
    const r = await make(s, file, store).start();
    expect(s.log.slice(0, 2)).toEqual(['HEAD /api/v1/files/uploads/gone', 'POST /api/v1/files/uploads']);
    expect(r.fileId).toBe('file-u1');
  });

  it('re-reads the offset after a failed chunk and never sends a byte twice', async () => {
    const s = new FakeTus();
    s.failNextPatch = 1;
    const file = fileOf(2500);
    await make(s, file).start();
    expect(s.log).toContain('HEAD /api/v1/files/uploads/u1');
    expect(s.uploads.get('u1')?.data).toEqual(await bytesOf(file));
  });

  it('gives up after the bounded retries', async () => {
    const s = new FakeTus();
    s.failNextPatch = 100;
    await expect(make(s, fileOf(2000)).start()).rejects.toThrow(/stalled \(HTTP 503\)/);
    expect(s.log.filter((l) => l.startsWith('PATCH')).length).toBeLessThanOrEqual(12);
  });

  it('refreshes the token once on 401 and goes on', async () => {
    const s = new FakeTus();
    let refreshes = 0;
    const up = make(s, fileOf(1200), undefined, {
      headers: () => ({ Authorization: `Bearer ${refreshes > 0 ? 'good' : 'stale'}` }),
      onUnauthorized: async () => {
        refreshes += 1;
        return true;
      },
    });
    await up.start();
    expect(refreshes).toBe(1);
  });

  it('terminates: the server forgets the upload and so does the store', async () => {
    const s = new FakeTus();
    const store = localResumeStore(null);
    const file = fileOf(3000);
    const up = make(s, file, store);
    s.onPatch = () => up.pause();
    await expect(up.start()).rejects.toBeInstanceOf(TusAbortedError);
    await up.terminate();
    expect(s.uploads.size).toBe(0);
    expect(store.list()).toHaveLength(0);
  });
});
