//! The cart service: the cart (a guest's by its id, a user's by the token), checkout, orders.
//! A guest's cart id comes back in `X-Cart-Id`; it is kept in localStorage and sent back as `X-Cart-Id`
//! (the service also sets an HttpOnly cookie, which works the same on this origin).

import * as session from '../auth/session';
import { request, type RequestOptions } from './http';
import type {
  Cart,
  DiscountCode,
  DiscountCodeInput,
  Order,
  OrderStatus,
  OrdersSummary,
  Page,
  PricingChoices,
  Promotion,
  PromotionInput,
  Quote,
  SalePrices,
  ShippingZone,
  ShippingZoneInput,
  TaxSettings,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointList,
} from './types';

const BASE = '/api/cart';
const GUEST_KEY = 'storefront.cartId';

export function guestCartId(): string | null {
  try {
    return localStorage.getItem(GUEST_KEY);
  } catch {
    return null;
  }
}

function setGuestCartId(id: string | null): void {
  try {
    if (id === null) localStorage.removeItem(GUEST_KEY);
    else localStorage.setItem(GUEST_KEY, id);
  } catch {
    // storage disabled: the cookie still carries the cart
  }
}

function cartRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const signedIn = session.currentUser() !== null || session.hasStoredSession();
  const guest = guestCartId();
  const headers = { ...options.headers };
  if (!signedIn && guest) headers['x-cart-id'] = guest;
  return request<T>(path, {
    ...options,
    headers,
    onHeaders: (h) => {
      const id = h.get('x-cart-id');
      if (id && !signedIn) setGuestCartId(id);
    },
  });
}

export const cartApi = {
  get: (signal?: AbortSignal) => cartRequest<Cart>(BASE, { signal }),
  addLine: (sku: string, quantity: number) =>
    cartRequest<Cart>(`${BASE}/lines`, { method: 'POST', body: { sku, quantity } }),
  setQuantity: (sku: string, quantity: number) =>
    cartRequest<Cart>(`${BASE}/lines/${encodeURIComponent(sku)}`, { method: 'PUT', body: { quantity } }),
  removeLine: (sku: string) => cartRequest<Cart>(`${BASE}/lines/${encodeURIComponent(sku)}`, { method: 'DELETE' }),
  /** After sign-in: the guest cart's lines join the user's cart; the guest id is then forgotten. */
  mergeGuestCart: async (): Promise<void> => {
    const cartId = guestCartId();
    if (!cartId) return;
    try {
      await request<Cart>(`${BASE}/merge`, { method: 'POST', body: { cartId } });
    } finally {
      setGuestCartId(null);
    }
  },
  checkout: (paymentToken: string, idempotencyKey: string, choices: PricingChoices = {}) =>
    request<Order>(`${BASE}/checkout`, {
      method: 'POST',
      body: { paymentToken, ...choices },
      headers: { 'idempotency-key': idempotencyKey },
    }),
  /** The cart priced with the promotions in force, a code, and the address and method chosen. */
  quote: (choices: PricingChoices, signal?: AbortSignal) =>
    cartRequest<Quote>(`${BASE}/quote`, { method: 'POST', body: choices, signal }),
  /** Sale prices of SKUs under the catalogue promotions in force. */
  salePrices: (skus: string[], signal?: AbortSignal) =>
    request<SalePrices>(`${BASE}/prices`, { method: 'POST', body: { skus }, signal }),
  orders: (cursor?: string, signal?: AbortSignal) =>
    request<Page<Order>>(`${BASE}/orders`, { query: { cursor, limit: 20 }, signal }),
  order: (id: string, signal?: AbortSignal) => request<Order>(`${BASE}/orders/${encodeURIComponent(id)}`, { signal }),
  /** The shopper cancels their own order while it has not shipped. */
  cancelOrder: (id: string, reason?: string) =>
    request<Order>(`${BASE}/orders/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: reason ? { reason } : {} }),

  // admin
  adminOrders: (status: OrderStatus | '', cursor?: string, signal?: AbortSignal) =>
    request<Page<Order>>(`${BASE}/admin/orders`, { query: { status, cursor, limit: 25 }, signal }),
  changeStatus: (id: string, status: 'SHIPPED' | 'CANCELLED', version: number, reason?: string) =>
    request<Order>(`${BASE}/admin/orders/${encodeURIComponent(id)}/status`, {
      method: 'POST',
      body: reason ? { status, reason } : { status },
      headers: { 'if-match': `"${version}"` },
    }),
  summary: (since: string, signal?: AbortSignal) =>
    request<OrdersSummary>(`${BASE}/admin/orders/summary`, { query: { since }, signal }),

  // admin: pricing rules (PUT creates or replaces)
  tax: (signal?: AbortSignal) => request<TaxSettings>(`${BASE}/admin/tax`, { signal }),
  saveTax: (settings: TaxSettings) => request<TaxSettings>(`${BASE}/admin/tax`, { method: 'PUT', body: settings }),
  zones: (signal?: AbortSignal) => request<Page<ShippingZone>>(`${BASE}/admin/shipping-zones`, { query: { limit: 100 }, signal }),
  saveZone: (id: string, input: ShippingZoneInput) =>
    request<ShippingZone>(`${BASE}/admin/shipping-zones/${encodeURIComponent(id)}`, { method: 'PUT', body: input }),
  deleteZone: (id: string) => request<void>(`${BASE}/admin/shipping-zones/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  promotions: (signal?: AbortSignal) => request<Page<Promotion>>(`${BASE}/admin/promotions`, { query: { limit: 100 }, signal }),
  savePromotion: (id: string, input: PromotionInput) =>
    request<Promotion>(`${BASE}/admin/promotions/${encodeURIComponent(id)}`, { method: 'PUT', body: input }),
  deletePromotion: (id: string) => request<void>(`${BASE}/admin/promotions/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  codes: (signal?: AbortSignal) => request<Page<DiscountCode>>(`${BASE}/admin/discount-codes`, { query: { limit: 100 }, signal }),
  saveCode: (code: string, input: DiscountCodeInput) =>
    request<DiscountCode>(`${BASE}/admin/discount-codes/${encodeURIComponent(code)}`, { method: 'PUT', body: input }),
  deleteCode: (code: string) => request<void>(`${BASE}/admin/discount-codes/${encodeURIComponent(code)}`, { method: 'DELETE' }),
  /** One key per refund attempt: a retry with the same key never refunds twice. */
  refund: (id: string, amount: { amount: number; currency: string } | null, reason: string, idempotencyKey: string) =>
    request<Order>(`${BASE}/admin/orders/${encodeURIComponent(id)}/refunds`, {
      method: 'POST',
      body: { ...(amount ? { amount } : {}), ...(reason ? { reason } : {}) },
      headers: { 'idempotency-key': idempotencyKey },
    }),

  // admin: webhooks
  webhooks: (signal?: AbortSignal) => request<WebhookEndpointList>(`${BASE}/admin/webhooks`, { signal }),
  webhook: (id: string, signal?: AbortSignal) => request<WebhookEndpoint>(`${BASE}/admin/webhooks/${encodeURIComponent(id)}`, { signal }),
  createWebhook: (body: { url: string; events: string[]; description: string }, idempotencyKey: string) =>
    request<WebhookEndpoint>(`${BASE}/admin/webhooks`, { method: 'POST', body, headers: { 'idempotency-key': idempotencyKey } }),
  updateWebhook: (id: string, body: { enabled?: boolean; rotateSecret?: boolean; events?: string[]; url?: string; description?: string }) =>
    request<WebhookEndpoint>(`${BASE}/admin/webhooks/${encodeURIComponent(id)}`, { method: 'PATCH', body }),
  deleteWebhook: (id: string) => request<void>(`${BASE}/admin/webhooks/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  deliveries: (id: string, cursor?: string, signal?: AbortSignal) =>
    request<Page<WebhookDelivery>>(`${BASE}/admin/webhooks/${encodeURIComponent(id)}/deliveries`, { query: { cursor, limit: 20 }, signal }),
  replayDelivery: (id: string, delivery: string) =>
    request<WebhookDelivery>(`${BASE}/admin/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(delivery)}/replay`, { method: 'POST' }),
  pingWebhook: (id: string) => request<WebhookDelivery>(`${BASE}/admin/webhooks/${encodeURIComponent(id)}/ping`, { method: 'POST' }),
};
