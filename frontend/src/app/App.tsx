// Providers and routes. Pages are loaded on demand so the first load carries only the shell.

import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { AuthProvider } from '@/shared/auth/AuthContext';
import { perms, type PermissionRule } from '@/shared/auth/permissions';
import { NotificationProvider, NotificationRegion } from '@/shared/notifications/NotificationContext';
import { ThemeProvider } from '@/shared/theme/ThemeContext';
import { Loading } from '@/shared/components/Feedback';
import { AppShell } from './AppShell';
import { NotFoundPage, RequireAuth, RequirePermission } from './guards';
import { LoginPage } from '@/features/auth/components/LoginPage';

const DashboardPage = lazy(() => import('@/features/dashboard/components/DashboardPage'));
const ProfilePage = lazy(() => import('@/features/profile/components/ProfilePage'));
const UsersPage = lazy(() => import('@/features/users/components/UsersPage'));
const RolesPage = lazy(() => import('@/features/users/components/RolesPage'));
const AuditLogPage = lazy(() => import('@/features/audit/components/AuditLogPage'));
const FilesPage = lazy(() => import('@/features/files/components/FilesPage'));
const FileDetailPage = lazy(() => import('@/features/files/components/FileDetailPage'));
const TrashPage = lazy(() => import('@/features/files/components/TrashPage'));
const StoragePage = lazy(() => import('@/features/storage/components/StoragePage'));
const WorkerPage = lazy(() => import('@/features/worker/components/WorkerPage'));
const PublicSharePage = lazy(() => import('@/features/shares/components/PublicSharePage'));

function Guarded({ rule, children }: { rule: PermissionRule; children: ReactNode }) {
  return (
    <RequireAuth>
      <AppShell>
        <RequirePermission rule={rule}>
          <Suspense fallback={<Loading />}>{children}</Suspense>
        </RequirePermission>
      </AppShell>
    </RequireAuth>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        path="/shares/:token"
        element={
          <Suspense fallback={<Loading />}>
            <PublicSharePage />
          </Suspense>
        }
      />
      <Route path="/" element={<Guarded rule={perms.signedIn}><DashboardPage /></Guarded>} />
      <Route path="/profile" element={<Guarded rule={perms.signedIn}><ProfilePage /></Guarded>} />
      <Route path="/files" element={<Guarded rule={perms.filesRead}><FilesPage /></Guarded>} />
      <Route path="/files/:id" element={<Guarded rule={perms.filesRead}><FileDetailPage /></Guarded>} />
      <Route path="/trash" element={<Guarded rule={perms.filesRead}><TrashPage /></Guarded>} />
      <Route path="/storage" element={<Guarded rule={perms.storageRead}><StoragePage /></Guarded>} />
      <Route path="/worker" element={<Guarded rule={perms.workerRead}><WorkerPage /></Guarded>} />
      <Route path="/users" element={<Guarded rule={perms.usersRead}><UsersPage /></Guarded>} />
      <Route path="/roles" element={<Guarded rule={perms.rolesRead}><RolesPage /></Guarded>} />
      <Route path="/audit" element={<Guarded rule={perms.auditRead}><AuditLogPage /></Guarded>} />
      <Route path="*" element={<RequireAuth><AppShell><NotFoundPage /></AppShell></RequireAuth>} />
    </Routes>
  );
}

export function App() {
  return (
    <ThemeProvider>
      <NotificationProvider>
        <AuthProvider>
          <BrowserRouter>
            <AppRoutes />
          </BrowserRouter>
          <NotificationRegion />
        </AuthProvider>
      </NotificationProvider>
    </ThemeProvider>
  );
}
