// The thumbnail of a file as an object URL: the worker stores thumbnails as derivative files,
// fetched here with the bearer token (an <img> cannot send it). Cached per file version.

import { useEffect, useState } from 'react';
import { filesService } from '../services/filesService';
import type { FileRecord } from '../types';

const cache = new Map<string, Promise<string | null>>();

function load(file: FileRecord): Promise<string | null> {
  const key = `${file.id}:${file.version}:${file.processing_status}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const ds = await filesService.derivatives(file.id);
      const thumb = ds.find((d) => d.derivative_kind === 'thumbnail') ?? ds.find((d) => d.file_type === 'image');
      if (!thumb) return null;
      const blob = await filesService.blob(filesService.previewPath(thumb.id));
      return URL.createObjectURL(blob);
    })().catch(() => null);
    cache.set(key, p);
    if (cache.size > 2000) {
      const first = cache.keys().next().value;
      if (first !== undefined) cache.delete(first);
    }
  }
  return p;
}

export function useThumbnail(file: FileRecord): string | null {
  const [url, setUrl] = useState<string | null>(null);
  const eligible = file.file_type === 'image' || file.file_type === 'video';
  useEffect(() => {
    if (!eligible || file.processing_status !== 'completed') {
      setUrl(null);
      return undefined;
    }
    let alive = true;
    void load(file).then((u) => {
      if (alive) setUrl(u);
    });
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [file.id, file.version, file.processing_status, eligible]);
  return url;
}
