import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeServer, json, type Call } from '../../test/fakeServer';
import ResetPasswordPage from './ResetPasswordPage';

function renderPage(url = '/reset-password?token=tok-123') {
  render(
    <MemoryRouter initialEntries={[url]}>
      <Routes>
        <Route path="/reset-password" element={<ResetPasswordPage />} />
        <Route path="/forgot-password" element={<p>forgot page</p>} />
        <Route path="/login" element={<p>login page</p>} />
      </Routes>
    </MemoryRouter>,
  );
}

const resets = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.path === '/api/users/password/reset');
const invalidLink = () =>
  json(422, { type: 'https://storefront.dev/problems/invalid-link', title: 'Invalid link', status: 422, detail: 'The link is invalid or has expired.' });

async function fill(password: string, confirm = password) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText(/^New password/), password);
  await user.type(screen.getByLabelText(/^Confirm new password/), confirm);
  await user.click(screen.getByRole('button', { name: 'Set new password' }));
  return user;
}

afterEach(() => vi.unstubAllGlobals());

describe('reset password', () => {
  it('sets the password with the token and links to sign in', async () => {
    const calls = fakeServer({ 'POST /api/users/password/reset': () => json(204, null) });
    renderPage();
    const user = await fill('a long new passphrase');
    expect((await screen.findByRole('status')).textContent).toContain('Your password has been changed');
    expect(resets(calls).map((c) => c.body)).toEqual([{ token: 'tok-123', newPassword: 'a long new passphrase' }]);
    await user.click(screen.getByRole('link', { name: 'Sign in' }));
    expect(await screen.findByText('login page')).toBeTruthy();
  });

  it('does not send two different passwords', async () => {
    const calls = fakeServer({ 'POST /api/users/password/reset': () => json(204, null) });
    renderPage();
    await fill('a long new passphrase', 'a long new passphrasf');
    expect(await screen.findByText('The two passwords are not the same.')).toBeTruthy();
    expect(resets(calls)).toHaveLength(0);
  });

  it('shows the password rules the service refused beside the field', async () => {
    fakeServer({
      'POST /api/users/password/reset': () =>
        json(422, {
          title: 'Unprocessable Entity',
          status: 422,
          detail: 'The request has invalid fields.',
          errors: [{ field: 'newPassword', message: 'This password is too common.' }],
        }),
    });
    renderPage();
    await fill('password123');
    expect(await screen.findByText('This password is too common.')).toBeTruthy();
    expect(screen.getByLabelText(/^New password/).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('button', { name: 'Set new password' })).toBeTruthy();
  });

  it('says when the link no longer works and offers a new one', async () => {
    fakeServer({ 'POST /api/users/password/reset': invalidLink });
    renderPage();
    const user = await fill('a long new passphrase');
    expect((await screen.findByRole('alert')).textContent).toContain('The link is invalid or has expired.');
    expect(screen.queryByRole('button', { name: 'Set new password' })).toBeNull();
    await user.click(screen.getByRole('link', { name: 'Ask for a new link' }));
    expect(await screen.findByText('forgot page')).toBeTruthy();
  });

  it('treats a link without a token as invalid without asking the service', () => {
    const calls = fakeServer({});
    renderPage('/reset-password');
    expect(screen.getByRole('alert').textContent).toContain('The link is invalid or has expired.');
    expect(calls).toHaveLength(0);
  });
});
