// Shapes of the /api/v1/auth routes.

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  account_id: string;
  status?: string;
  totp_enabled?: boolean;
  last_login_at?: string | null;
  created_at?: string | null;
}

export interface SessionAccount {
  id: string;
  name: string;
  slug?: string;
  status?: string;
}

export interface SessionRole {
  id: string;
  name: string;
  description?: string;
  system?: boolean;
  all_permissions?: boolean;
}

export interface Me {
  user: SessionUser;
  account: SessionAccount | null;
  roles: SessionRole[];
  permissions: string[];
}

export interface TokenReply {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  refresh_expires_in?: number;
  user: SessionUser;
}

export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
  expires_in?: number;
}

export type LoginReply = TokenReply | MfaChallenge;

export function isMfaChallenge(r: LoginReply): r is MfaChallenge {
  return 'mfa_required' in r && r.mfa_required === true;
}
