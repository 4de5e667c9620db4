export type UserStatus = 'active' | 'disabled' | 'invited';

export interface RoleRef {
  id: string;
  name: string;
  system?: boolean;
}

export interface User {
  id: string;
  account_id: string;
  email: string;
  name: string;
  status: UserStatus;
  totp_enabled?: boolean;
  locked_until?: string | null;
  last_login_at?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  roles: RoleRef[];
}

export interface Role {
  id: string;
  account_id: string | null;
  name: string;
  description: string;
  system: boolean;
  all_permissions: boolean;
  permissions: string[];
  user_count?: number;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface NewUser {
  email: string;
  name?: string;
  password?: string;
  status?: 'active' | 'invited';
  roles?: string[];
}

export interface UserFilters {
  q?: string;
  status?: UserStatus | '';
  role?: string;
  page?: number;
  per_page?: number;
}
