//! The session for React: who is signed in (from the access token's claims), sign-in, sign-out.

import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { cartApi } from '../api/cart';
import { usersApi } from '../api/users';
import * as session from './session';

interface Auth {
  user: session.SessionUser | null;
  /** True while a stored session is being restored at start-up. */
  restoring: boolean;
  isAdmin: boolean;
  login: (email: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const user = useSyncExternalStore(session.subscribe, session.currentUser, session.currentUser);
  const [restoring, setRestoring] = useState(() => session.currentUser() === null && session.hasStoredSession());

  useEffect(() => {
    if (!restoring) return;
    let live = true;
    void session.refresh().finally(() => {
      if (live) setRestoring(false);
    });
    return () => {
      live = false;
    };
  }, [restoring]);

  const login = useCallback(
    async (email: string, password: string) => {
      session.accept(await usersApi.login(email, password));
      try {
        await cartApi.mergeGuestCart();
      } catch {
        // The guest's lines stay in the guest cart; the user's own cart is still fine.
      }
      await queryClient.invalidateQueries();
    },
    [queryClient],
  );

  const logout = useCallback(async () => {
    const token = session.refreshTokenForLogout();
    try {
      if (token) await usersApi.logout(token);
    } finally {
      session.clear();
      queryClient.clear();
    }
  }, [queryClient]);

  const value = useMemo<Auth>(
    () => ({ user, restoring, isAdmin: user?.roles.includes('admin') ?? false, login, logout }),
    [user, restoring, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}
