import { describe, expect, it } from 'vitest';
import { can, perms } from '@/shared/auth/permissions';
import { visibleNavItems } from './navItems';

const ids = (src: Parameters<typeof visibleNavItems>[0]): string[] => visibleNavItems(src).map((i) => i.id);

describe('navigation filtered by permission', () => {
  it('shows everything to a role holding all permissions', () => {
    expect(ids({ permissions: [], allPermissions: true })).toEqual(['dashboard', 'files', 'trash', 'storage', 'worker', 'users', 'roles', 'audit', 'profile']);
  });

  it('shows a restricted member only what the role allows', () => {
    expect(ids({ permissions: ['auth.me.read', 'files.files.read', 'audit.logs.read'] })).toEqual(['dashboard', 'files', 'trash', 'audit', 'profile']);
  });

  it('shows an admin-only page only with its admin permission', () => {
    expect(ids({ permissions: ['auth.me.read', 'admin.users.read'] })).toEqual(['dashboard', 'users', 'profile']);
  });

  it('shows nothing without a session', () => {
    expect(ids(null)).toEqual([]);
  });

  it('evaluates anyOf and allOf rules', () => {
    const src = { permissions: ['a.b.read'] };
    expect(can(src, { anyOf: ['x.y.z', 'a.b.read'] })).toBe(true);
    expect(can(src, { allOf: ['x.y.z', 'a.b.read'] })).toBe(false);
    expect(can(src, undefined)).toBe(true);
    expect(can(src, perms.usersRead)).toBe(false);
  });
});
