import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeServer, json, type Call } from '../../test/fakeServer';
import VerifyEmailPage from './VerifyEmailPage';

function renderPage(url: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <StrictMode>
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={[url]}>
          <Routes>
            <Route path="/verify-email" element={<VerifyEmailPage />} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </StrictMode>,
  );
}

const verifies = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.path === '/api/users/email/verify');

afterEach(() => vi.unstubAllGlobals());

describe('verify email', () => {
  it('posts the token once on load, even in strict mode, and confirms', async () => {
    const calls = fakeServer({ 'POST /api/users/email/verify': () => json(204, null) });
    renderPage('/verify-email?token=tok-456');
    expect((await screen.findByText(/Your email address is verified/)).textContent).toBeTruthy();
    expect(verifies(calls).map((c) => c.body)).toEqual([{ token: 'tok-456' }]);
  });

  it('says when the link no longer works', async () => {
    const calls = fakeServer({
      'POST /api/users/email/verify': () =>
        json(422, { type: 'https://storefront.dev/problems/invalid-link', title: 'Invalid link', status: 422, detail: 'The link is invalid or has expired.' }),
    });
    renderPage('/verify-email?token=used');
    expect((await screen.findByRole('alert')).textContent).toContain('The link is invalid or has expired.');
    expect(screen.queryByText(/Your email address is verified/)).toBeNull();
    expect(verifies(calls)).toHaveLength(1);
  });

  it('explains other failures in their own words', async () => {
    fakeServer({ 'POST /api/users/email/verify': () => json(503, { title: 'Service Unavailable', status: 503, detail: 'Try again shortly.' }) });
    renderPage('/verify-email?token=tok');
    expect((await screen.findByRole('alert')).textContent).toContain('Try again shortly.');
  });

  it('treats a link without a token as invalid without asking the service', () => {
    const calls = fakeServer({});
    renderPage('/verify-email');
    expect(screen.getByRole('alert').textContent).toContain('The link is invalid or has expired.');
    expect(calls).toHaveLength(0);
  });
});
