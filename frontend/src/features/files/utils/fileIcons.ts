import type { FileType } from '../types';

// Short text marks rather than emoji: they render with any font (headless Chromium has no
// emoji font) and read well in both themes.
const icons: Record<FileType, string> = {
  image: 'IMG',
  document: 'DOC',
  video: 'VID',
  audio: 'AUD',
  archive: 'ZIP',
  code: 'CODE',
  data: 'DATA',
  other: 'FILE',
};

export function fileIcon(t: FileType | string): string {
  return icons[t as FileType] ?? 'FILE';
}

export const fileTypeOptions = [
  { value: '', label: 'Any type' },
  ...(['image', 'document', 'video', 'audio', 'archive', 'code', 'data', 'other'] as const).map((t) => ({ value: t, label: t[0]?.toUpperCase() + t.slice(1) })),
];

export const categoryOptions = [
  { value: '', label: 'Any category' },
  ...['user_upload', 'workflow_output', 'ai_generated', 'temp', 'system', 'import', 'page_content'].map((c) => ({ value: c, label: c.replace(/_/g, ' ') })),
];
