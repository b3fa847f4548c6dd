//! What an admin may refund of an order, and reading the amount they typed.

import { ApiError } from '../../api/problem';
import { parseMajor, toMajorText } from '../../lib/money';
import type { Order } from '../../api/types';

/** Minor units still refundable: captured minus refunded (never below zero). */
export function refundable(order: Pick<Order, 'captured' | 'refunded'>): number {
  return Math.max(0, order.captured.amount - order.refunded.amount);
}

export type RefundAmount = { ok: true; amount: number } | { ok: false; message: string };

/** The typed amount (major units, e.g. "12.50") as minor units, within 1..max. */
export function parseRefundAmount(text: string, currency: string, max: number): RefundAmount {
  const amount = parseMajor(text.trim(), currency);
  if (amount === null) return { ok: false, message: 'Enter an amount such as 12.50' };
  if (amount <= 0) return { ok: false, message: 'The amount must be more than zero' };
  if (amount > max) return { ok: false, message: `At most ${toMajorText(max, currency)} ${currency} is left to refund` };
  return { ok: true, amount };
}

/** Whether a failed refund request must be retried with the same Idempotency-Key (its outcome is
 *  unknown, or the provider failed and the refund is still pending) or is settled. */
export function retryWithSameKey(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  if (error.status === 0 || error.status === 502 || error.status === 503 || error.status === 504) return true;
  return error.status === 409 && error.code === 'idempotency-in-flight';
}
