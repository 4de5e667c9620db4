import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { AuthProvider } from '@/shared/auth/AuthContext';
import { NotificationProvider } from '@/shared/notifications/NotificationContext';
import { ThemeProvider } from '@/shared/theme/ThemeContext';
import { tokenStore } from '@/shared/api/instance';
import { AppRoutes } from './App';

function meReply(permissions: string[], admin = false): Response {
  const body = {
    success: true,
    data: {
      user: { id: 'u1', email: 'm@example.test', name: 'Member', account_id: 'a1' },
      account: { id: 'a1', name: 'Default' },
      roles: [{ id: 'r1', name: admin ? 'admin' : 'restricted', all_permissions: admin }],
      permissions,
    },
  };
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
}

function stubServer(permissions: string[], admin = false): void {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url === '/api/v1/auth/me') return meReply(permissions, admin);
      // Everything else: an empty list, or a never-ending event stream.
      if (url.startsWith('/api/v1/events')) return new Promise<Response>(() => undefined);
      return new Response(JSON.stringify({ success: true, data: [] }), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }),
  );
}

function renderAt(path: string) {
  return render(
    <ThemeProvider>
      <NotificationProvider>
        <AuthProvider>
          <MemoryRouter initialEntries={[path]}>
            <AppRoutes />
          </MemoryRouter>
        </AuthProvider>
      </NotificationProvider>
    </ThemeProvider>,
  );
}

describe('routes and navigation by permission', () => {
  beforeEach(() => {
    tokenStore.set({ accessToken: 't', refreshToken: 'r', expiresAt: 0 });
    window.matchMedia = vi.fn(() => ({ matches: false }) as unknown as MediaQueryList);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    tokenStore.clear();
  });

  it('a restricted member sees only allowed pages and gets the 403 page on a forbidden URL', async () => {
    stubServer(['auth.me.read', 'files.files.read']);
    renderAt('/users');
    expect(await screen.findByTestId('forbidden')).toBeTruthy();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const labels = within(nav)
      .getAllByRole('link')
      .map((a) => a.textContent?.trim().slice(1));
    expect(labels).toEqual(['Dashboard', 'Files', 'Trash', 'Profile']);
    // The forbidden page's data was never requested.
    const calls = (globalThis.fetch as unknown as { mock: { calls: Array<[string]> } }).mock.calls.map((c) => c[0]);
    expect(calls.some((u) => u.startsWith('/api/v1/users'))).toBe(false);
  });

  it('an administrator reaches the page', async () => {
    stubServer([], true);
    renderAt('/users');
    expect(await screen.findByRole('heading', { level: 1, name: 'Users' })).toBeTruthy();
    expect(screen.queryByTestId('forbidden')).toBeNull();
  });

  it('a user whose roles lack auth.me.read gets an explanation, not an empty shell', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ success: false, error: 'permission auth.me.read required', details: [] }), { status: 403, headers: { 'Content-Type': 'application/json' } })),
    );
    renderAt('/');
    expect(await screen.findByTestId('no-access')).toBeTruthy();
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();
  });

  it('without a session every page sends to sign-in', async () => {
    tokenStore.clear();
    stubServer([]);
    renderAt('/roles');
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeTruthy();
  });
});
