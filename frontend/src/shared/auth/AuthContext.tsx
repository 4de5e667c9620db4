// The signed-in session: who the user is and what they may do, loaded from /auth/me when a
// token exists, cleared when the API client ends the session.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, liveEvents } from '@/shared/api/instance';
import { ApiError } from '@/shared/api/types';
import { logger, errorMessage } from '@/shared/utils/logger';
import { authService } from '@/features/auth/services/authService';
import type { Me } from '@/features/auth/types';
import { can, type PermissionRule, type PermissionSource } from './permissions';

/** 'forbidden': signed in, but the roles lack auth.me.read, so the UI cannot know the user. */
export type SessionStatus = 'loading' | 'anonymous' | 'authenticated' | 'forbidden';

export interface SessionValue {
  status: SessionStatus;
  me: Me | null;
  source: PermissionSource | null;
  can: (rule: PermissionRule | undefined) => boolean;
  reload: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function sourceFromMe(me: Me | null): PermissionSource | null {
  if (!me) return null;
  return { permissions: me.permissions, allPermissions: me.roles.some((r) => r.all_permissions === true) };
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [status, setStatus] = useState<SessionStatus>(api.tokens.get() ? 'loading' : 'anonymous');

  const reload = useCallback(async () => {
    if (!api.tokens.get()) {
      setMe(null);
      setStatus('anonymous');
      return;
    }
    try {
      const m = await authService.me();
      setMe(m);
      setStatus('authenticated');
    } catch (err) {
      logger.warn('could not load the session', { error: errorMessage(err) });
      if (err instanceof ApiError && err.status === 401) api.tokens.clear();
      setMe(null);
      setStatus(!api.tokens.get() ? 'anonymous' : err instanceof ApiError && err.status === 403 ? 'forbidden' : 'authenticated');
    }
  }, []);

  useEffect(() => {
    void reload();
    // The client cleared the tokens (refresh failed, other tab signed out) or a new sign-in.
    return api.tokens.subscribe((pair) => {
      if (!pair) {
        setMe(null);
        setStatus('anonymous');
        liveEvents.close();
      }
    });
  }, [reload]);

  useEffect(() => {
    if (status === 'authenticated') liveEvents.start();
  }, [status]);

  const signOut = useCallback(async () => {
    liveEvents.close();
    await authService.logout();
    setMe(null);
    setStatus('anonymous');
  }, []);

  const value = useMemo<SessionValue>(() => {
    const source = sourceFromMe(me);
    return { status, me, source, can: (rule) => can(source, rule), reload, signOut };
  }, [status, me, reload, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside AuthProvider');
  return v;
}
