export type AuditResult = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  id: string;
  account_id: string;
  user_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  result: AuditResult;
  details: Record<string, unknown>;
  created_at: string | null;
}

export interface AuditFilters {
  user_id?: string;
  action?: string;
  result?: AuditResult | '';
  target_type?: string;
  target_id?: string;
  from?: string;
  to?: string;
  page?: number;
  per_page?: number;
}
