import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeServer, json } from '../../test/fakeServer';
import { Dashboard, startOfToday } from './Dashboard';

function renderDashboard() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <Dashboard />
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('admin dashboard', () => {
  it('shows today’s orders, revenue per currency and the low-stock list', async () => {
    const calls = fakeServer({
      'GET /api/cart/admin/orders/summary': () =>
        json(200, { since: startOfToday(), orders: 7, cancelled: 1, revenue: [{ amount: 123456, currency: 'EUR' }] }),
      'GET /api/catalog/admin/low-stock': () =>
        json(200, { items: [{ sku: 'SF-1-RED', productId: 'p1', title: 'Tent', onHand: 3, reserved: 1, available: 2 }] }),
    });
    renderDashboard();
    expect((await screen.findByTestId('orders-today')).textContent).toBe('7');
    expect(await screen.findByText(/1,234\.56/)).toBeTruthy();
    expect(await screen.findByText('SF-1-RED')).toBeTruthy();
    const summary = calls.find((c) => c.path === '/api/cart/admin/orders/summary');
    expect(summary?.query.get('since')).toBe(startOfToday());
    const low = calls.find((c) => c.path === '/api/catalog/admin/low-stock');
    expect(low?.query.get('threshold')).toBe('5');
  });

  it('says plainly when a service does not offer an endpoint yet', async () => {
    fakeServer({});
    renderDashboard();
    expect(await screen.findByTestId('summary-unavailable')).toBeTruthy();
    expect(await screen.findByTestId('low-stock-unavailable')).toBeTruthy();
  });

  it('asks for orders since local midnight, as RFC 3339', () => {
    const since = startOfToday(new Date(2026, 10, 28, 15, 30));
    expect(new Date(since).getHours()).toBe(0);
    expect(since).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});
