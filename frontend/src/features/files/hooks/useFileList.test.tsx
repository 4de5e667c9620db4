import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderHook, waitFor } from '@testing-library/react';
import type { FileDetail, FileRecord } from '../types';

vi.mock('@/shared/hooks/useLiveEvents', () => ({ useLiveEvents: () => true }));
vi.mock('../services/filesService', () => ({
  FILES_CHANNEL: 'files.files',
  filesService: { all: vi.fn(), get: vi.fn() },
}));

const { filesService } = await import('../services/filesService');
const { useFileList } = await import('./useFileList');

function rec(id: string, status: FileRecord['processing_status']): FileRecord {
  return {
    id, filename: `${id}.png`, description: '', content_type: 'image/png', file_size: 10, file_type: 'image', category: 'general', visibility: 'private',
    version: 1, current_version_id: 'v1', checksum_sha256: '', processing_status: status, metadata: {}, exif_data: {}, dimensions: {}, download_count: 0,
    storage_id: 's', parent_file_id: null, derivative_kind: null, uploaded_by_id: null, created_at: '', updated_at: '', deleted_at: null, tags: [],
  };
}

afterEach(() => vi.clearAllMocks());

describe('useFileList', () => {
  it('watches files in processing and patches them in when the worker is done', async () => {
    vi.mocked(filesService.all).mockImplementation(async (_f, onPage) => {
      onPage([rec('a', 'pending'), rec('b', 'completed')], 2);
    });
    let calls = 0;
    vi.mocked(filesService.get).mockImplementation(async (id) => {
      calls += 1;
      const detail: FileDetail = { ...rec(id, calls >= 2 ? 'completed' : 'processing'), versions: [] };
      return detail;
    });
    const { result } = renderHook(() => useFileList({}));
    await waitFor(() => expect(result.current.files[0]?.processing_status).toBe('pending'));
    await waitFor(() => expect(result.current.files[0]?.processing_status).toBe('completed'), { timeout: 8000 });
    // Only the file in processing was asked for, and the list was not reloaded whole.
    expect(vi.mocked(filesService.get).mock.calls.every(([id]) => id === 'a')).toBe(true);
    expect(filesService.all).toHaveBeenCalledTimes(1);
    expect(result.current.files[0]).not.toHaveProperty('versions');
    const after = calls;
    await new Promise((r) => setTimeout(r, 2000));
    expect(calls).toBe(after);
  }, 15000);

  it('does not watch the trash', async () => {
    vi.mocked(filesService.all).mockImplementation(async (_f, onPage) => {
      onPage([rec('a', 'pending')], 1);
    });
    const { result } = renderHook(() => useFileList({}, true));
    await waitFor(() => expect(result.current.files.length).toBe(1));
    await new Promise((r) => setTimeout(r, 2000));
    expect(filesService.get).not.toHaveBeenCalled();
  }, 10000);
});
