import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeServer, json } from '../../../test/fakeServer';
import { WebhooksAdmin } from './WebhooksAdmin';

const endpoint = {
  id: '0190-endpoint',
  url: 'https://hooks.example.com/in',
  description: 'ERP',
  events: ['order.placed'],
  enabled: true,
  version: 1,
  createdAt: '2026-11-28T10:00:00Z',
  updatedAt: '2026-11-28T10:00:00Z',
};

const delivery = {
  id: '0190-delivery',
  endpointId: endpoint.id,
  eventId: '0190-event',
  eventType: 'order.placed',
  status: 'pending',
  attempts: 1,
  nextAttemptAt: '2026-11-28T10:05:00Z',
  lastStatusCode: 500,
  lastError: 'boom',
  lastDurationMs: 12,
  body: '{"id":"0190-event","type":"order.placed"}',
  createdAt: '2026-11-28T10:00:00Z',
  updatedAt: '2026-11-28T10:00:00Z',
};

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <WebhooksAdmin />
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('admin webhooks', () => {
  it('lists endpoints, pings one, and replays a delivery', async () => {
    const calls = fakeServer({
      'GET /api/cart/admin/webhooks': () => json(200, { items: [endpoint], eventTypes: ['order.placed', 'product.changed'] }),
      'POST /api/cart/admin/webhooks/0190-endpoint/ping': () => json(201, { ...delivery, id: 'ping', eventType: 'ping', status: 'succeeded', lastStatusCode: 204, lastError: null }),
      'GET /api/cart/admin/webhooks/0190-endpoint/deliveries': () => json(200, { items: [delivery] }),
      'POST /api/cart/admin/webhooks/0190-endpoint/deliveries/0190-delivery/replay': () => json(200, { ...delivery, status: 'succeeded', attempts: 2, lastStatusCode: 200 }),
    });
    renderPage();
    expect(await screen.findByText('https://hooks.example.com/in')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Send test ping' }));
    expect(await screen.findByText(/Test ping: Delivered \(204\)/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Deliveries' }));
    expect(await screen.findByText('Retrying (HTTP 500)')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Replay' }));
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path.endsWith('/replay'))).toBe(true));
  }, 20000);

  it('checks the form before sending and shows the service’s refusal beside the URL', async () => {
    const calls = fakeServer({
      'GET /api/cart/admin/webhooks': () => json(200, { items: [], eventTypes: ['order.placed'] }),
      'POST /api/cart/admin/webhooks': () =>
        json(422, { title: 'Invalid', status: 422, errors: [{ field: 'url', message: '127.0.0.1 resolves to a loopback address, which webhooks may not reach' }] }),
    });
    renderPage();
    const url = await screen.findByLabelText(/URL/);
    fireEvent.change(url, { target: { value: 'not a url' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(await screen.findByText(/starting with https/)).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    fireEvent.change(url, { target: { value: 'https://127.0.0.1/hook' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(await screen.findByText(/loopback address/)).toBeTruthy();
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({ url: 'https://127.0.0.1/hook', events: ['order.placed'], description: '' });
    expect(post?.headers['idempotency-key']).toBeTruthy();
  });
});
