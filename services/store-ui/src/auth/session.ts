//! The signed-in session: the access token lives in memory only; the refresh token (single use, rotated
//! on every refresh as the users service requires) is kept in localStorage so a reload stays signed in.
//! Refreshes are single-flight within a tab and serialised across tabs with the Web Locks API, always
//! spending the newest stored token, so two tabs never present the same token twice (which would revoke
//! the whole session).

export interface TokenPair {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

export interface SessionUser {
  id: string;
  roles: string[];
}

const REFRESH_KEY = 'storefront.refreshToken';
/** Refresh this long before the access token runs out. */
const EARLY_MS = 30_000;

let accessToken: string | null = null;
let accessExpiresAt = 0;
let user: SessionUser | null = null;
let inFlight: Promise<string | null> | null = null;
const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentUser(): SessionUser | null {
  return user;
}

export function hasStoredSession(): boolean {
  return storedRefreshToken() !== null;
}

function storedRefreshToken(): string | null {
  try {
    return localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function storeRefreshToken(token: string | null): void {
  try {
    if (token === null) localStorage.removeItem(REFRESH_KEY);
    else localStorage.setItem(REFRESH_KEY, token);
  } catch {
    // Storage disabled: the session then lasts as long as the page.
  }
}

/** The claims the UI needs, read (not verified: the services verify) from the JWT payload. */
export function decodeClaims(token: string): SessionUser | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    if (typeof claims !== 'object' || claims === null) return null;
    const { sub, roles } = claims as { sub?: unknown; roles?: unknown };
    if (typeof sub !== 'string') return null;
    const roleList = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
    return { id: sub, roles: roleList };
  } catch {
    return null;
  }
}

/** Takes a fresh pair from login, refresh or a password change. */
export function accept(pair: TokenPair): void {
  accessToken = pair.accessToken;
  accessExpiresAt = Date.now() + pair.expiresIn * 1000;
  user = decodeClaims(pair.accessToken);
  storeRefreshToken(pair.refreshToken);
  notify();
}

/** Forgets the session locally (the caller revokes it on the server first when it can). */
export function clear(): void {
  accessToken = null;
  accessExpiresAt = 0;
  storeRefreshToken(null);
  if (user !== null) {
    user = null;
    notify();
  }
}

/** The refresh token to revoke at logout. */
export function refreshTokenForLogout(): string | null {
  return storedRefreshToken();
}

/** An access token valid for a while yet, refreshing when it is (nearly) out; null when signed out. */
export async function validAccessToken(): Promise<string | null> {
  if (accessToken !== null && Date.now() < accessExpiresAt - EARLY_MS) return accessToken;
  if (storedRefreshToken() === null) return null;
  return refresh();
}

/** Spends the stored refresh token for a new pair; null (and signed out) when the server refuses it. */
export function refresh(): Promise<string | null> {
  if (inFlight) return inFlight;
  const run = async (): Promise<string | null> => {
    const presented = storedRefreshToken();
    if (presented === null) {
      clear();
      return null;
    }
    let response: Response;
    try {
      response = await fetch('/api/users/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refreshToken: presented }),
      });
    } catch {
      // Offline: keep the stored token for the next attempt.
      return null;
    }
    if (!response.ok) {
      // Another tab may have rotated it meanwhile; then its successor is stored and still good.
      if (storedRefreshToken() === presented) clear();
      return null;
    }
    accept((await response.json()) as TokenPair);
    return accessToken;
  };
  const locked = async (): Promise<string | null> =>
    typeof navigator !== 'undefined' && navigator.locks
      ? await navigator.locks.request('storefront-refresh', run)
      : run();
  inFlight = locked().finally(() => {
    inFlight = null;
  });
  return inFlight;
}
