// The flat navigation: one level, each entry guarded by a permission rule. The same rules guard
// the routes (AppRoutes), so a page that is not listed is not reachable by URL either.

import { can, perms, type PermissionRule, type PermissionSource } from '@/shared/auth/permissions';

export interface NavItem {
  id: string;
  label: string;
  path: string;
  rule: PermissionRule;
  /** A one-glyph icon (kept as text: no icon font to load). */
  icon: string;
}

export const navItems: readonly NavItem[] = [
  { id: 'dashboard', label: 'Dashboard', path: '/', rule: perms.signedIn, icon: '◧' },
  { id: 'files', label: 'Files', path: '/files', rule: perms.filesRead, icon: '▤' },
  { id: 'trash', label: 'Trash', path: '/trash', rule: perms.filesRead, icon: '⌫' },
  { id: 'storage', label: 'Storage', path: '/storage', rule: perms.storageRead, icon: '⛁' },
  { id: 'worker', label: 'Worker & queues', path: '/worker', rule: perms.workerRead, icon: '⚙' },
  { id: 'users', label: 'Users', path: '/users', rule: perms.usersRead, icon: '☺' },
  { id: 'roles', label: 'Roles', path: '/roles', rule: perms.rolesRead, icon: '⚑' },
  { id: 'audit', label: 'Audit log', path: '/audit', rule: perms.auditRead, icon: '☰' },
  { id: 'profile', label: 'Profile', path: '/profile', rule: perms.signedIn, icon: '◉' },
];

export function visibleNavItems(source: PermissionSource | null, items: readonly NavItem[] = navItems): NavItem[] {
  return items.filter((item) => can(source, item.rule));
}
