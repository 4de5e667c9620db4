// Route guards: sign-in required, and permission required (403 page otherwise - the page's
// code and data are not even requested).

import type { ReactNode } from 'react';
import { Link, Navigate, useLocation } from 'react-router-dom';
import { useSession } from '@/shared/auth/AuthContext';
import type { PermissionRule } from '@/shared/auth/permissions';
import { Loading } from '@/shared/components/Feedback';
import { PageContainer } from '@/shared/components/PageContainer';

export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, signOut } = useSession();
  const location = useLocation();
  if (status === 'loading') return <Loading label="Loading your session" />;
  if (status === 'anonymous') {
    const next = location.pathname + location.search;
    return <Navigate to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />;
  }
  if (status === 'forbidden') {
    return (
      <main className="flex min-h-full items-center justify-center p-4">
        <div className="card-theme max-w-md" data-testid="no-access">
          <h1 className="mb-2 text-xl font-bold">No access to the web UI</h1>
          <p className="text-sm">Your roles do not include reading your own profile (auth.me.read), which the web UI needs. Ask an administrator to add it to one of your roles.</p>
          <button type="button" className="btn-theme mt-4" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </main>
    );
  }
  return <>{children}</>;
}

export function RequirePermission({ rule, children }: { rule: PermissionRule; children: ReactNode }) {
  const { can } = useSession();
  if (!can(rule)) return <ForbiddenPage />;
  return <>{children}</>;
}

export function ForbiddenPage() {
  return (
    <PageContainer title="403 — Not allowed">
      <div data-testid="forbidden" className="card-theme max-w-xl">
        <p>Your roles do not include the permission this page needs.</p>
        <p className="mt-2 text-sm text-theme-muted">Ask an administrator for access if you need it.</p>
        <Link to="/" className="link-theme mt-4 inline-block">
          Back to the dashboard
        </Link>
      </div>
    </PageContainer>
  );
}

export function NotFoundPage() {
  return (
    <PageContainer title="404 — Not found">
      <div className="card-theme max-w-xl" data-testid="not-found">
        <p>There is no page at this address.</p>
        <Link to="/" className="link-theme mt-4 inline-block">
          Back to the dashboard
        </Link>
      </div>
    </PageContainer>
  );
}
