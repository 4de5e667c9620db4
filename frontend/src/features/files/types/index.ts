// The files plugin's records (plugins/files).

export type FileType = 'image' | 'document' | 'video' | 'audio' | 'archive' | 'code' | 'data' | 'other';
export type ProcessingStatus = 'pending' | 'processing' | 'completed' | 'failed';

export interface FileRecord {
  id: string;
  filename: string;
  description: string;
  content_type: string;
  file_size: number;
  file_type: FileType;
  category: string;
  visibility: string;
  version: number;
  current_version_id: string | null;
  checksum_sha256: string;
  processing_status: ProcessingStatus;
  metadata: Record<string, unknown>;
  exif_data: Record<string, unknown>;
  dimensions: Record<string, unknown>;
  download_count: number;
  storage_id: string;
  parent_file_id: string | null;
  derivative_kind: string | null;
  uploaded_by_id: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  tags: string[];
}

export interface FileVersion {
  id: string;
  version_number: number;
  file_size: number;
  content_type: string;
  checksum_sha256: string;
  change_description: string;
  created_by_id: string | null;
  created_at: string;
}

export interface FileDetail extends FileRecord {
  versions: FileVersion[];
  urls?: { download: string; signed: string };
}

export interface FilePage {
  files: FileRecord[];
  pagination: { current_page: number; per_page: number; total_pages: number; total_count: number };
}

export interface FileShare {
  id: string;
  file_object_id: string;
  share_type: string;
  access_level: string;
  status: string;
  expires_at: string | null;
  max_downloads: number | null;
  download_count: number;
  password_protected?: boolean;
  last_accessed_at?: string | null;
  revoked_at?: string | null;
  created_at: string;
  /** Only in the creation reply. */
  token?: string;
  url?: string;
}

export interface FileTag {
  id: string;
  name: string;
  color: string;
  description?: string;
  files_count?: number;
}

export interface FileFilters {
  q?: string;
  tag?: string;
  category?: string;
  file_type?: string;
  visibility?: string;
  sort?: 'created_at' | 'updated_at' | 'filename' | 'file_size' | 'deleted_at';
  order?: 'asc' | 'desc';
}

export interface NewShare {
  expires_in?: number;
  max_downloads?: number;
  password?: string;
}
