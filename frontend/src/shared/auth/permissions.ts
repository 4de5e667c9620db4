// Permission rules for pages and actions. Names are <namespace>.<resource>.<verb>; where a
// plugin's final names are not settled yet, a rule lists the accepted spellings with anyOf.

export type PermissionRule = string | { anyOf: readonly string[] } | { allOf: readonly string[] };

export interface PermissionSource {
  permissions: readonly string[];
  /** True when one of the user's roles holds every permission (the admin role). */
  allPermissions?: boolean;
}

export function can(source: PermissionSource | null | undefined, rule: PermissionRule | undefined): boolean {
  if (rule === undefined) return true;
  if (!source) return false;
  if (source.allPermissions) return true;
  const held = new Set(source.permissions);
  if (typeof rule === 'string') return held.has(rule);
  if ('anyOf' in rule) return rule.anyOf.some((p) => held.has(p));
  return rule.allOf.every((p) => held.has(p));
}

/** The rules the UI uses, in one place so a renamed permission is a one-line change. */
export const perms = {
  signedIn: 'auth.me.read',
  eventsStream: 'events.stream.read',
  selfManage: 'auth.self.manage',
  apiKeys: 'auth.api_keys.manage',
  systemRead: 'admin.system.read',
  usersRead: 'admin.users.read',
  usersManage: 'admin.users.manage',
  rolesRead: 'admin.roles.read',
  rolesManage: 'admin.roles.manage',
  auditRead: { anyOf: ['audit.logs.read', 'admin.audit_logs.read'] },
  auditAll: 'admin.audit_logs.read',
  filesRead: { anyOf: ['files.files.read', 'admin.files.read'] },
  filesCreate: 'files.files.create',
  filesUpdate: 'files.files.update',
  filesDelete: 'files.files.delete',
  filesDownload: 'files.files.download',
  filesShare: 'files.shares.create',
  filesVersion: 'files.versions.create',
  filesTag: 'files.tags.manage',
  storageRead: { anyOf: ['storage.configs.read', 'admin.storage.read'] },
  storageCreate: 'storage.configs.create',
  storageUpdate: 'storage.configs.update',
  storageDelete: 'storage.configs.delete',
  storageTest: 'storage.configs.test',
  // plugins/queues checks admin.system.read besides its own permission (see its README).
  workerRead: { allOf: ['queues.queues.read', 'admin.system.read'] },
  workerManage: { allOf: ['queues.queues.manage', 'admin.system.read'] },
} as const satisfies Record<string, PermissionRule>;
