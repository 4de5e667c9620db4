export interface TotpSetup {
  secret: string;
  otpauth_uri: string;
}

export interface ApiKey {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  masked: string;
  permissions: string[];
  created_at: string | null;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  active: boolean;
  /** Only in the creation reply: the whole key, shown once. */
  key?: string;
}

export interface PermissionInfo {
  name: string;
  description: string;
  owner?: string;
  held?: boolean;
}

export interface PermissionCategory {
  category: string;
  permissions: PermissionInfo[];
}
