import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthProvider } from '../../auth/AuthProvider';
import * as session from '../../auth/session';
import { fakeAccessToken, fakeServer, json, type Call } from '../../test/fakeServer';
import CheckoutPage from './CheckoutPage';

const cart = {
  lines: [
    {
      sku: 'SF-1-RED',
      quantity: 2,
      purchasable: true,
      title: 'Tent',
      variantTitle: 'red',
      unitPrice: { amount: 1000, currency: 'EUR' },
      lineTotal: { amount: 2000, currency: 'EUR' },
      available: 5,
      inStock: true,
    },
  ],
  itemCount: 2,
  subtotal: { amount: 2000, currency: 'EUR' },
};
const address = {
  id: 'a1', fullName: 'Ada', line1: '1 Road', city: 'Berlin', postalCode: '10115', country: 'DE',
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', version: 1,
};
const order = {
  id: '0190-order', userId: 'u1', status: 'CONFIRMED', lines: [], total: cart.subtotal, version: 1,
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z',
};

function renderCheckout() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <AuthProvider>
        <MemoryRouter initialEntries={['/checkout']}>
          <Routes>
            <Route path="/checkout" element={<CheckoutPage />} />
            <Route path="/account/orders/:id" element={<p>order page</p>} />
          </Routes>
        </MemoryRouter>
      </AuthProvider>
    </QueryClientProvider>,
  );
}

const checkouts = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.path === '/api/cart/checkout');

beforeEach(() => {
  session.accept({
    accessToken: fakeAccessToken('u1', ['customer']),
    tokenType: 'Bearer',
    expiresIn: 900,
    refreshToken: 'r1',
    refreshTokenExpiresAt: '2030-01-01T00:00:00Z',
  });
});

afterEach(() => {
  session.clear();
  vi.unstubAllGlobals();
});

describe('checkout', () => {
  it('sends one order for a double click, with an Idempotency-Key', async () => {
    let answer: (r: Response) => void = () => {};
    const calls = fakeServer({
      'GET /api/cart': () => json(200, cart),
      'GET /api/users/me/addresses': () => json(200, { items: [address], nextCursor: null }),
      'POST /api/cart/checkout': () => new Promise<Response>((resolve) => (answer = resolve)),
      'GET /api/cart/orders': () => json(200, { items: [] }),
    });
    renderCheckout();
    const button = await screen.findByRole('button', { name: 'Place order' });
    await waitFor(() => expect(button).not.toHaveProperty('disabled', true));
    // Two clicks in the same tick (before the button can re-render as disabled), then a double click.
    fireEvent.click(button);
    fireEvent.click(button);
    await userEvent.setup({ pointerEventsCheck: 0 }).dblClick(button);
    expect(checkouts(calls)).toHaveLength(1);
    expect(checkouts(calls)[0]?.headers['idempotency-key']).toMatch(/\S+/);
    expect(checkouts(calls)[0]?.body).toEqual({ paymentToken: '4242424242424242' });
    answer(json(201, order));
    expect(await screen.findByText('order page')).toBeTruthy();
  });

  it('explains a declined card and uses a new key for the next attempt', async () => {
    const calls = fakeServer({
      'GET /api/cart': () => json(200, cart),
      'GET /api/users/me/addresses': () => json(200, { items: [address], nextCursor: null }),
      'POST /api/cart/checkout': () =>
        json(402, { type: 'https://storefront.dev/problems/payment-declined', title: 'Payment declined', status: 402, detail: 'The card was declined.' }),
    });
    renderCheckout();
    const user = userEvent.setup();
    const card = await screen.findByLabelText(/Card number/);
    await user.clear(card);
    await user.type(card, '4000 0000 0000 0002');
    const button = screen.getByRole('button', { name: 'Place order' });
    await waitFor(() => expect(button).not.toHaveProperty('disabled', true));
    await user.click(button);
    expect(await screen.findByText('Your card was declined')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    await waitFor(() => expect(checkouts(calls)).toHaveLength(2));
    const [first, second] = checkouts(calls);
    expect(first?.headers['idempotency-key']).not.toBe(second?.headers['idempotency-key']);
  });

  it('keeps the key after a lost connection, so pressing again cannot order twice', async () => {
    let attempt = 0;
    const calls = fakeServer({
      'GET /api/cart': () => json(200, cart),
      'GET /api/users/me/addresses': () => json(200, { items: [address], nextCursor: null }),
      'POST /api/cart/checkout': () => {
        attempt += 1;
        if (attempt === 1) throw new TypeError('network down');
        return json(201, order);
      },
      'GET /api/cart/orders': () => json(200, { items: [] }),
    });
    renderCheckout();
    const user = userEvent.setup();
    const button = await screen.findByRole('button', { name: 'Place order' });
    await waitFor(() => expect(button).not.toHaveProperty('disabled', true));
    await user.click(button);
    expect(await screen.findByText('Connection lost')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    expect(await screen.findByText('order page')).toBeTruthy();
    const [first, second] = checkouts(calls);
    expect(first?.headers['idempotency-key']).toBe(second?.headers['idempotency-key']);
  });
});
