import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthProvider } from '../../auth/AuthProvider';
import * as session from '../../auth/session';
import { fakeAccessToken, fakeServer, json, type Call } from '../../test/fakeServer';
import { setDiscountCode } from '../pricing/discountCode';
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

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const quote = {
  requiresShipping: true,
  shippingOptions: [
    { id: 'standard', name: 'Standard', amount: eur(490) },
    { id: 'express', name: 'Express', amount: eur(1490) },
  ],
  pricing: {
    currency: 'EUR',
    lines: [
      { sku: 'SF-1-RED', quantity: 2, listUnitPrice: eur(1000), unitPrice: eur(1000), lineAmount: eur(2000), discount: eur(0), tax: eur(319), total: eur(2000) },
    ],
    taxRateBasisPoints: 1900,
    pricesIncludeTax: true,
    subtotal: eur(2000),
    promotionSavings: eur(0),
    discount: eur(0),
    shippingAmount: eur(490),
    tax: eur(397),
    total: eur(2490),
  },
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
  setDiscountCode(null);
  session.clear();
  vi.unstubAllGlobals();
});

// Each test renders the whole page through several server round trips; CI has 2 shared cores.
describe('checkout', { timeout: 20_000 }, () => {
  it('sends one order for a double click, with an Idempotency-Key', async () => {
    let answer: (r: Response) => void = () => {};
    const calls = fakeServer({
      'GET /api/cart': () => json(200, cart),
      'GET /api/users/me/addresses': () => json(200, { items: [address], nextCursor: null }),
      'POST /api/cart/quote': () => json(200, quote),
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
    expect(checkouts(calls)[0]?.body).toEqual({
      paymentToken: '4242424242424242',
      shippingAddress: { country: 'DE', name: 'Ada', line1: '1 Road', city: 'Berlin', postalCode: '10115' },
      shippingMethodId: 'standard',
    });
    answer(json(201, order));
    expect(await screen.findByText('order page')).toBeTruthy();
  });

  it('explains a declined card and uses a new key for the next attempt', async () => {
    const calls = fakeServer({
      'GET /api/cart': () => json(200, cart),
      'GET /api/users/me/addresses': () => json(200, { items: [address], nextCursor: null }),
      'POST /api/cart/quote': () => json(200, quote),
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
      'POST /api/cart/quote': () => json(200, quote),
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

  it('sends the chosen shipping method and the applied code, and shows tax per line', async () => {
    setDiscountCode('welcome10');
    const calls = fakeServer({
      'GET /api/cart': () => json(200, cart),
      'GET /api/users/me/addresses': () => json(200, { items: [address], nextCursor: null }),
      'POST /api/cart/quote': () => json(200, quote),
      'POST /api/cart/checkout': () => json(201, order),
      'GET /api/cart/orders': () => json(200, { items: [] }),
    });
    renderCheckout();
    const user = userEvent.setup();
    await user.click(await screen.findByRole('radio', { name: /^Express/ }));
    expect((await screen.findByTestId('line-tax')).textContent).toContain('€3.19');
    expect(screen.getByTestId('applied-code').textContent).toContain('WELCOME10');
    const button = screen.getByRole('button', { name: 'Place order' });
    await waitFor(() => expect(button).not.toHaveProperty('disabled', true));
    await user.click(button);
    expect(await screen.findByText('order page')).toBeTruthy();
    expect(checkouts(calls)[0]?.body).toMatchObject({ shippingMethodId: 'express', discountCode: 'WELCOME10' });
    const quotes = calls.filter((c) => c.path === '/api/cart/quote');
    expect(quotes.at(-1)?.body).toMatchObject({ shippingAddress: { country: 'DE' }, shippingMethodId: 'express', discountCode: 'WELCOME10' });
  });
});
