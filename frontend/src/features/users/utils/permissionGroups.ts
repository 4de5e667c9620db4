// Group permission names for the role editor: by the server's category when the registry
// gives one, else by the name's namespace.

import type { PermissionCategory } from '@/features/profile/types';

export interface PermissionGroup {
  category: string;
  names: string[];
}

export function groupPermissions(registry: PermissionCategory[] | null, extra: readonly string[] = []): PermissionGroup[] {
  const groups = new Map<string, Set<string>>();
  const add = (cat: string, name: string): void => {
    let g = groups.get(cat);
    if (!g) {
      g = new Set();
      groups.set(cat, g);
    }
    g.add(name);
  };
  const known = new Set<string>();
  for (const c of registry ?? []) {
    for (const p of c.permissions) {
      add(c.category || 'Other', p.name);
      known.add(p.name);
    }
  }
  for (const name of extra) if (!known.has(name)) add(name.split('.')[0] ?? 'Other', name);
  return [...groups.entries()]
    .map(([category, names]) => ({ category, names: [...names].sort() }))
    .sort((a, b) => a.category.localeCompare(b.category));
}
