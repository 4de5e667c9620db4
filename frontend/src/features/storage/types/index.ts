export type ProviderType = 'local' | 's3' | 'gcs' | 'azure';

export interface StorageConfig {
  id: string;
  name: string;
  provider_type: ProviderType;
  is_default: boolean;
  quota_bytes: number | null;
  used_bytes: number;
  files_count: number;
  status: 'active' | 'inactive' | 'maintenance' | 'failed';
  health_status: string | null;
  last_health_check_at?: string | null;
  configuration: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface StorageList {
  storages: StorageConfig[];
  total_count: number;
  default_storage: string | null;
}

export interface TestResult {
  connected: boolean;
  provider_type?: string;
  status?: string;
  checked_at?: string;
  details?: unknown;
}

export interface ProviderField {
  name: string;
  label: string;
  required?: boolean;
  secret?: boolean;
  kind?: 'text' | 'bool';
}
