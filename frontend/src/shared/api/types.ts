// The server's response envelope, typed end to end: every route answers
// { success: true, data, meta? } or { success: false, error, details: [{ field, message }] }.

export interface ApiErrorDetail {
  field: string;
  message: string;
}

export interface Pagination {
  page?: number;
  per_page?: number;
  total?: number;
  total_pages?: number;
  current_page?: number;
  total_count?: number;
}

export interface ApiMeta {
  pagination?: Pagination;
  [key: string]: unknown;
}

export interface ApiSuccess<T> {
  success: true;
  data: T;
  meta?: ApiMeta;
}

export interface ApiFailure {
  success: false;
  error: string;
  details: ApiErrorDetail[];
}

export type Envelope<T> = ApiSuccess<T> | ApiFailure;

export interface ApiResult<T> {
  data: T;
  meta: ApiMeta;
  status: number;
  headers: Headers;
}

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Record<string, QueryValue>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Narrow an arbitrary JSON document to the envelope; null when it is not one. */
export function asEnvelope(doc: unknown): Envelope<unknown> | null {
  if (!isRecord(doc) || typeof doc.success !== 'boolean') return null;
  if (doc.success) {
    const meta = isRecord(doc.meta) ? (doc.meta as ApiMeta) : undefined;
    return meta ? { success: true, data: doc.data, meta } : { success: true, data: doc.data };
  }
  const details: ApiErrorDetail[] = Array.isArray(doc.details)
    ? doc.details.filter(isRecord).map((d) => ({ field: String(d.field ?? ''), message: String(d.message ?? '') }))
    : [];
  return { success: false, error: typeof doc.error === 'string' ? doc.error : 'Request failed', details };
}

export class ApiError extends Error {
  readonly status: number;
  readonly details: ApiErrorDetail[];
  readonly headers: Headers | null;

  constructor(status: number, message: string, details: ApiErrorDetail[] = [], headers: Headers | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
    this.headers = headers;
  }

  /** The message of the detail for one field, if the server named it. */
  fieldMessage(field: string): string | undefined {
    return this.details.find((d) => d.field === field || d.field.endsWith(`/${field}`))?.message;
  }
}
