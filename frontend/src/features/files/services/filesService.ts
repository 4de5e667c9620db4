// The files plugin's routes.

import { api } from '@/shared/api/instance';
import { ApiError } from '@/shared/api/types';
import type { FileDetail, FileFilters, FilePage, FileRecord, FileShare, FileTag, FileVersion, NewShare } from '../types';

const F = '/api/v1/files';
const enc = encodeURIComponent;
export const PER_PAGE = 100;
/** Files larger than this go through the resumable (tus) protocol. */
export const RESUMABLE_THRESHOLD = 16 * 1024 * 1024;
export const TUS_ENDPOINT = `${F}/uploads`;
export const FILES_CHANNEL = 'files.files';

export const filesService = {
  async page(filters: FileFilters, page: number, trash = false, signal?: AbortSignal): Promise<FilePage> {
    const r = await api.get<FilePage>(trash ? `${F}/trash` : F, { query: { ...filters, page, per_page: PER_PAGE }, ...(signal ? { signal } : {}) });
    return r.data;
  },
  /** Every page in turn (up to `limit` files), reporting each page as it arrives. */
  async all(filters: FileFilters, onPage: (files: FileRecord[], total: number) => void, signal: AbortSignal, trash = false, limit = 10_000): Promise<void> {
    let page = 1;
    let loaded = 0;
    for (;;) {
      const p = await filesService.page(filters, page, trash, signal);
      loaded += p.files.length;
      onPage(p.files, p.pagination.total_count);
      if (signal.aborted || page >= p.pagination.total_pages || p.files.length === 0 || loaded >= limit) return;
      page += 1;
    }
  },
  async get(id: string): Promise<FileDetail> {
    return (await api.get<FileDetail>(`${F}/${enc(id)}`)).data;
  },
  async update(id: string, change: Partial<Pick<FileRecord, 'filename' | 'description' | 'visibility' | 'category'>>): Promise<FileRecord> {
    return (await api.patch<FileRecord>(`${F}/${enc(id)}`, change)).data;
  },
  async trash(id: string): Promise<void> {
    await api.delete(`${F}/${enc(id)}`);
  },
  async purge(id: string): Promise<void> {
    await api.delete(`${F}/${enc(id)}`, { query: { permanent: 'true' } });
  },
  async restore(id: string): Promise<FileRecord> {
    return (await api.post<FileRecord>(`${F}/${enc(id)}/restore`)).data;
  },
  async emptyTrash(): Promise<{ purged: number; more: boolean }> {
    return (await api.delete<{ purged: number; more: boolean }>(`${F}/trash`)).data;
  },
  async versions(id: string): Promise<FileVersion[]> {
    return (await api.get<FileVersion[]>(`${F}/${enc(id)}/versions`)).data;
  },
  async restoreVersion(id: string, versionId: string): Promise<FileRecord> {
    return (await api.post<FileRecord>(`${F}/${enc(id)}/versions/${enc(versionId)}/restore`)).data;
  },
  async tags(): Promise<FileTag[]> {
    return (await api.get<FileTag[]>(`${F}/tags`)).data;
  },
  async addTags(id: string, tags: string[]): Promise<FileRecord> {
    return (await api.post<FileRecord>(`${F}/${enc(id)}/tags`, { tags })).data;
  },
  async removeTags(id: string, tags: string[]): Promise<FileRecord> {
    return (await api.request<FileRecord>('DELETE', `${F}/${enc(id)}/tags`, { body: { tags } })).data;
  },
  async shares(id: string): Promise<FileShare[]> {
    return (await api.get<FileShare[]>(`${F}/${enc(id)}/shares`)).data;
  },
  async createShare(id: string, share: NewShare): Promise<FileShare> {
    return (await api.post<FileShare>(`${F}/${enc(id)}/shares`, share)).data;
  },
  async revokeShare(id: string, shareId: string): Promise<void> {
    await api.delete(`${F}/${enc(id)}/shares/${enc(shareId)}`);
  },
  /** A signed URL the browser can open without the bearer token (downloads, previews). */
  async signedUrl(id: string, disposition: 'attachment' | 'inline' = 'attachment'): Promise<string> {
    const r = await api.get<{ url: string } | string>(`${F}/${enc(id)}/signed_url`, { query: { disposition } });
    return typeof r.data === 'string' ? r.data : r.data.url;
  },
  /** The bytes of a file (or one version) as a Blob, with the bearer token. */
  async blob(path: string, signal?: AbortSignal): Promise<Blob> {
    const res = await api.send('GET', path, signal ? { signal } : {});
    if (!res.ok) throw new ApiError(res.status, `download failed (HTTP ${res.status})`);
    return res.blob();
  },
  /** A real download (the server counts it: disposition=attachment is its default). */
  downloadPath(id: string): string {
    return `${F}/${enc(id)}/download`;
  },
  /** The same bytes for showing in the page (previews, thumbnails): inline, not counted as
   * a download. */
  previewPath(id: string): string {
    return `${F}/${enc(id)}/download?disposition=inline`;
  },
  versionDownloadPath(id: string, versionId: string): string {
    return `${F}/${enc(id)}/versions/${enc(versionId)}/download`;
  },
  /** Derivatives (thumbnails, posters) of a file. */
  async derivatives(id: string): Promise<FileRecord[]> {
    const r = await api.get<FilePage>(F, { query: { parent_id: id, include_derivatives: 'true', per_page: 10 } });
    return r.data.files;
  },
};

/** Save a Blob under a name through a temporary link. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
