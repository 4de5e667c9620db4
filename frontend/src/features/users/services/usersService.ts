import { api } from '@/shared/api/instance';
import type { Pagination } from '@/shared/api/types';
import type { PermissionCategory } from '@/features/profile/types';
import type { NewUser, Role, User, UserFilters } from '../types';

export const usersService = {
  async list(filters: UserFilters): Promise<{ users: User[]; pagination: Pagination | undefined }> {
    const r = await api.get<User[]>('/api/v1/users', { query: { ...filters } });
    return { users: r.data, pagination: r.meta.pagination };
  },
  async create(user: NewUser): Promise<User> {
    return (await api.post<User>('/api/v1/users', user)).data;
  },
  async update(id: string, change: { name?: string; status?: 'active' | 'disabled'; roles?: string[] }): Promise<User> {
    return (await api.patch<User>(`/api/v1/users/${encodeURIComponent(id)}`, change)).data;
  },
  async remove(id: string): Promise<void> {
    await api.delete(`/api/v1/users/${encodeURIComponent(id)}`);
  },
};

export const rolesService = {
  async list(): Promise<Role[]> {
    return (await api.get<Role[]>('/api/v1/roles')).data;
  },
  async create(name: string, description: string, permissions: string[]): Promise<Role> {
    return (await api.post<Role>('/api/v1/roles', { name, description, permissions })).data;
  },
  async update(id: string, change: { name?: string; description?: string }): Promise<Role> {
    return (await api.patch<Role>(`/api/v1/roles/${encodeURIComponent(id)}`, change)).data;
  },
  async setPermissions(id: string, permissions: string[]): Promise<Role> {
    return (await api.put<Role>(`/api/v1/roles/${encodeURIComponent(id)}/permissions`, { permissions })).data;
  },
  async remove(id: string): Promise<void> {
    await api.delete(`/api/v1/roles/${encodeURIComponent(id)}`);
  },
  async registry(): Promise<PermissionCategory[]> {
    return (await api.get<PermissionCategory[]>('/api/v1/permissions')).data;
  },
};
