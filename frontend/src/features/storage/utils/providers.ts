// The configuration fields of each provider (plugins/storage/storage_conf.c). Secrets are sent
// on create or when changed, and never shown again: the server answers with masks.

import type { ProviderField, ProviderType } from '../types';

export const providerFields: Record<ProviderType, ProviderField[]> = {
  local: [{ name: 'root', label: 'Root folder' }],
  s3: [
    { name: 'bucket', label: 'Bucket', required: true },
    { name: 'region', label: 'Region' },
    { name: 'endpoint', label: 'Endpoint (S3-compatible services)' },
    { name: 'force_path_style', label: 'Path-style addressing', kind: 'bool' },
    { name: 'prefix', label: 'Key prefix' },
    { name: 'server_side_encryption', label: 'Server-side encryption (AES256 or empty)' },
    { name: 'access_key_id', label: 'Access key id', required: true, secret: true },
    { name: 'secret_access_key', label: 'Secret access key', required: true, secret: true },
  ],
  gcs: [
    { name: 'bucket', label: 'Bucket', required: true },
    { name: 'endpoint', label: 'Endpoint' },
    { name: 'prefix', label: 'Key prefix' },
    { name: 'hmac_access_id', label: 'HMAC access id', required: true, secret: true },
    { name: 'hmac_secret', label: 'HMAC secret', required: true, secret: true },
  ],
  azure: [
    { name: 'account_name', label: 'Storage account name', required: true },
    { name: 'container', label: 'Container', required: true },
    { name: 'endpoint', label: 'Endpoint' },
    { name: 'prefix', label: 'Blob prefix' },
    { name: 'account_key', label: 'Account key', required: true, secret: true },
  ],
};

export const providerLabels: Record<ProviderType, string> = { local: 'Local disk', s3: 'Amazon S3 / compatible', gcs: 'Google Cloud Storage', azure: 'Azure Blob' };

/** Bytes from a quota typed in GiB; null for unlimited. */
export function quotaFromGiB(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const v = Number(t);
  return Number.isFinite(v) && v >= 0 ? Math.round(v * 1024 ** 3) : null;
}
