import LinearProgress from '@mui/material/LinearProgress';
import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useAuth } from '../auth/AuthProvider';
import { EmptyState } from '../components/States';

/** Signed-in pages: sends guests to sign in and back; `admin` pages also need the admin role. */
export function RequireAuth({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const { user, restoring, isAdmin } = useAuth();
  const location = useLocation();
  if (restoring) return <LinearProgress aria-label="Restoring your session" />;
  if (!user) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (admin && !isAdmin) return <EmptyState title="Admins only">Your account cannot open this page.</EmptyState>;
  return <>{children}</>;
}
