import { useEffect, useState } from 'react';
import { uploads, type UploadItem } from '../services/uploadManager';

export function useUploads(): UploadItem[] {
  const [items, setItems] = useState<UploadItem[]>([]);
  useEffect(() => uploads.subscribe(setItems), []);
  return items;
}
