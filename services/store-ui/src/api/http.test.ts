import { afterEach, describe, expect, it, vi } from 'vitest';
import * as session from '../auth/session';
import { fakeAccessToken, fakeServer, json } from '../test/fakeServer';
import { request, withQuery } from './http';
import { ApiError } from './problem';

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

describe('http', () => {
  it('repeats parameters for arrays and drops empty ones', () => {
    expect(withQuery('/api/search', { q: 'tent', brand: ['Acme', 'Fjord'], cursor: undefined, price_min: '' })).toBe(
      '/api/search?q=tent&brand=Acme&brand=Fjord',
    );
  });

  it('sends the access token, and on a 401 refreshes once and retries with the new one', async () => {
    session.accept(pair(1));
    const first = pair(1).accessToken;
    const second = pair(2).accessToken;
    const calls = fakeServer({
      'GET /api/users/me': (call) =>
        call.headers.authorization === `Bearer ${second}` ? json(200, { id: 'user-2' }) : json(401, { title: 'Unauthorized', status: 401 }),
      'POST /api/users/refresh': () => json(200, pair(2)),
    });
    await expect(request('/api/users/me')).resolves.toEqual({ id: 'user-2' });
    expect(calls.map((c) => `${c.method} ${c.path} ${c.headers.authorization ?? ''}`)).toEqual([
      `GET /api/users/me Bearer ${first}`,
      'POST /api/users/refresh ',
      `GET /api/users/me Bearer ${second}`,
    ]);
    expect(localStorage.getItem('storefront.refreshToken')).toBe('refresh-2');
  });

  it('turns a problem+json answer into an ApiError with its detail, fields and Retry-After', async () => {
    fakeServer({
      'POST /api/users/login': () =>
        json(
          429,
          { type: 'https://storefront.dev/problems/too-many-requests', title: 'Too Many Requests', status: 429, detail: 'Slow down.', errors: [{ field: 'email', message: 'locked' }] },
          { 'retry-after': '30' },
        ),
    });
    const error = await request('/api/users/login', { method: 'POST', body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(429);
    expect(apiError.code).toBe('too-many-requests');
    expect(apiError.retryAfterSeconds).toBe(30);
    expect(apiError.fieldErrors).toEqual([{ field: 'email', message: 'locked' }]);
  });

  it('reports a network failure as status 0', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('offline')));
    const error = await request('/api/catalog/categories').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(0);
  });
});
