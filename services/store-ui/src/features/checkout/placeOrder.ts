//! One checkout attempt = one Idempotency-Key. A second click, a retry after a network fault, or a
//! replay of an in-flight request reuses the key, so the server answers with the same order instead of
//! making another. A definitive answer (an order, a decline, out of stock) ends the attempt: the next
//! press starts a new one with a new key.

import { ApiError } from '../../api/problem';

export type AttemptOutcome = 'done' | 'retry-same-key';

/** Whether an error leaves the attempt open (the same key must be used again) or closes it. */
export function outcomeOf(error: unknown): AttemptOutcome {
  if (!(error instanceof ApiError)) return 'retry-same-key';
  if (error.status === 0) return 'retry-same-key'; // the request may have reached the server
  if (error.status === 409 && error.code === 'idempotency-in-flight') return 'retry-same-key';
  if (error.status === 503 || error.status === 504) return 'retry-same-key';
  return 'done';
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Short stock, whether found when the cart is repriced (a plain 409 `conflict` naming cart lines) or
 *  when stock is reserved (`out-of-stock`). */
export function isOutOfStock(error: ApiError): boolean {
  if (error.code === 'out-of-stock') return true;
  return error.status === 409 && error.code === 'conflict' && error.fieldErrors.some((e) => e.field.startsWith('lines'));
}

/** What to tell the shopper about a failed checkout; `lines` are sentences to list under it. */
export function checkoutMessage(error: unknown): { title: string; detail: string; lines: string[] } {
  if (!(error instanceof ApiError)) return { title: 'Checkout failed', detail: 'Something went wrong. Please try again.', lines: [] };
  const detail = error.problem.detail ?? error.message;
  if (isOutOfStock(error)) {
    return {
      title: 'Some items are out of stock',
      detail: `${detail} Update your cart and try again.`,
      lines: error.fieldErrors.map((e) => e.message),
    };
  }
  switch (error.code) {
    case 'payment-declined':
      return { title: 'Your card was declined', detail: `${detail} No money was taken. Try another card.`, lines: [] };
    case 'payment-failed':
      return { title: 'Payment could not be completed', detail: `${detail} No money was taken. Please try again.`, lines: [] };
    case 'idempotency-in-flight':
      return { title: 'Still placing your order', detail: 'Your order is being processed. Press the button again in a moment to see the result.', lines: [] };
    default:
      if (error.status === 0) {
        return { title: 'Connection lost', detail: 'We could not confirm your order. Press the button again: you will not be charged twice.', lines: [] };
      }
      return { title: 'Checkout failed', detail, lines: error.fieldErrors.map((e) => `${e.field}: ${e.message}`) };
  }
}
