import type { FileType } from '../types';

const icons: Record<FileType, string> = {
  image: '🖼',
  document: '📄',
  video: '🎞',
  audio: '🎵',
  archive: '🗜',
  code: '⌨',
  data: '▦',
  other: '•',
};

export function fileIcon(t: FileType | string): string {
  return icons[t as FileType] ?? '•';
}

export const fileTypeOptions = [
  { value: '', label: 'Any type' },
  ...(['image', 'document', 'video', 'audio', 'archive', 'code', 'data', 'other'] as const).map((t) => ({ value: t, label: t[0]?.toUpperCase() + t.slice(1) })),
];

export const categoryOptions = [
  { value: '', label: 'Any category' },
  ...['user_upload', 'workflow_output', 'ai_generated', 'temp', 'system', 'import', 'page_content'].map((c) => ({ value: c, label: c.replace(/_/g, ' ') })),
];
