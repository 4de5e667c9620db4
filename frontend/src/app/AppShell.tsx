// The signed-in frame: skip link, flat navigation filtered by permission, the page, and the
// status bar.

import { useEffect, useRef, type ReactNode } from 'react';
import { NavLink, useLocation } from 'react-router-dom';
import { useSession } from '@/shared/auth/AuthContext';
import { visibleNavItems } from '@/shared/navigation/navItems';
import { useTheme } from '@/shared/theme/ThemeContext';
import { Button } from '@/shared/components/Button';
import { StatusBar } from '@/features/system/components/StatusBar';

export function AppShell({ children }: { children: ReactNode }) {
  const { me, source, signOut } = useSession();
  const { theme, toggle } = useTheme();
  const items = visibleNavItems(source);
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    // After a client-side navigation, move focus to the new page's heading for screen readers.
    if (first.current) {
      first.current = false;
      return;
    }
    const h = document.getElementById('page-title');
    (h ?? main.current)?.focus();
  }, [location.pathname]);

  return (
    <div className="flex h-full flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-theme-surface focus:p-2">
        Skip to content
      </a>
      <div className="flex min-h-0 flex-1">
        <aside className="flex w-56 shrink-0 flex-col border-r border-theme-border bg-theme-surface">
          <div className="px-4 py-4">
            <p className="text-lg font-bold">Powernode</p>
            <p className="truncate text-xs text-theme-muted" title={me?.account?.name}>
              {me?.account?.name ?? ''}
            </p>
          </div>
          <nav aria-label="Main" className="flex-1 overflow-y-auto px-2">
            <ul className="flex flex-col gap-0.5" data-testid="main-nav">
              {items.map((item) => (
                <li key={item.id}>
                  <NavLink
                    to={item.path}
                    end={item.path === '/'}
                    data-nav={item.id}
                    className={({ isActive }) =>
                      `flex items-center gap-2 rounded-md px-3 py-2 text-sm ${isActive ? 'bg-theme-accent text-theme-accent-text' : 'text-theme-text hover:bg-theme-bg'}`
                    }
                  >
                    <span aria-hidden="true" className="w-4 text-center">
                      {item.icon}
                    </span>
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="flex flex-col gap-2 border-t border-theme-border p-3 text-sm">
            <p className="truncate" title={me?.user.email}>
              {me?.user.name || me?.user.email}
            </p>
            <div className="flex gap-2">
              <Button variant="secondary" onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
                {theme === 'dark' ? '☀' : '☾'}
              </Button>
              <Button variant="secondary" className="flex-1" onClick={() => void signOut()}>
                Sign out
              </Button>
            </div>
          </div>
        </aside>
        <main id="main" ref={main} tabIndex={-1} className="min-w-0 flex-1 overflow-y-auto">
          {children}
        </main>
      </div>
      <StatusBar />
    </div>
  );
}
