import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeServer, json } from '../../test/fakeServer';
import ForgotPasswordPage, { FORGOT_CONFIRMATION } from './ForgotPasswordPage';

function renderPage(url = '/forgot-password') {
  render(
    <MemoryRouter initialEntries={[url]}>
      <Routes>
        <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      </Routes>
    </MemoryRouter>,
  );
}

const accepted = () => json(202, { status: 'accepted', message: 'If an account uses that address, a link is on its way.' });

afterEach(() => vi.unstubAllGlobals());

describe('forgot password', () => {
  it('posts the address and shows the neutral confirmation', async () => {
    const calls = fakeServer({ 'POST /api/users/password/forgot': accepted });
    renderPage();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/Email/), '  ada@example.test ');
    await user.click(screen.getByRole('button', { name: 'Send the link' }));
    expect((await screen.findByRole('status')).textContent).toContain(FORGOT_CONFIRMATION);
    expect(calls.filter((c) => c.path === '/api/users/password/forgot').map((c) => c.body)).toEqual([{ email: 'ada@example.test' }]);
  });

  it('starts with the address given by the sign-in page', () => {
    fakeServer({});
    renderPage('/forgot-password?email=ada%40example.test');
    expect(screen.getByLabelText(/Email/)).toHaveProperty('value', 'ada@example.test');
  });

  it('explains a refusal past the mail limits instead of confirming', async () => {
    fakeServer({
      'POST /api/users/password/forgot': () =>
        json(429, { title: 'Too Many Requests', status: 429, detail: 'Too many mails.' }, { 'retry-after': '60' }),
    });
    renderPage();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/Email/), 'ada@example.test');
    await user.click(screen.getByRole('button', { name: 'Send the link' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Please wait 60 s');
    expect(screen.queryByText(FORGOT_CONFIRMATION, { exact: false })).toBeNull();
  });
});
