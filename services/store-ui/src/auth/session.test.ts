import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeAccessToken, fakeServer, json } from '../test/fakeServer';
import * as session from './session';

const pair = (n: number) => ({
  accessToken: fakeAccessToken(`user-${n}`, ['customer']),
  tokenType: 'Bearer',
  expiresIn: 900,
  refreshToken: `refresh-${n}`,
  refreshTokenExpiresAt: '2030-01-01T00:00:00Z',
});

afterEach(() => {
  session.clear();
  vi.unstubAllGlobals();
});

describe('session', () => {
  it('reads the subject and roles from the access token', () => {
    expect(session.decodeClaims(fakeAccessToken('u1', ['customer', 'admin']))).toEqual({ id: 'u1', roles: ['customer', 'admin'] });
    expect(session.decodeClaims('not-a-jwt')).toBeNull();
  });

  it('keeps the access token in memory and only the refresh token in storage', () => {
    const p = pair(1);
    session.accept(p);
    expect(session.currentUser()?.id).toBe('user-1');
    expect(Object.values({ ...localStorage })).toEqual(['refresh-1']);
  });

  it('spends a refresh token once even when many requests need a new access token', async () => {
    localStorage.setItem('storefront.refreshToken', 'refresh-0');
    let n = 0;
    const calls = fakeServer({
      'POST /api/users/refresh': async () => {
        await new Promise((r) => setTimeout(r, 20));
        n += 1;
        return json(200, pair(n));
      },
    });
    const tokens = await Promise.all([session.validAccessToken(), session.validAccessToken(), session.refresh()]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ refreshToken: 'refresh-0' });
    expect(new Set(tokens).size).toBe(1);
    expect(localStorage.getItem('storefront.refreshToken')).toBe('refresh-1');
  });

  it('signs out when the server refuses the refresh token', async () => {
    localStorage.setItem('storefront.refreshToken', 'spent');
    fakeServer({ 'POST /api/users/refresh': () => json(401, { title: 'Unauthorized', status: 401 }) });
    expect(await session.validAccessToken()).toBeNull();
    expect(session.hasStoredSession()).toBe(false);
    expect(session.currentUser()).toBeNull();
  });
});
