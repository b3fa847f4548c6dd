import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/problem';
import { checkoutMessage, newIdempotencyKey, outcomeOf } from './placeOrder';

const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  new ApiError(status, { type: `https://storefront.dev/problems/${code}`, title: code, status, detail: `${code} detail`, ...extra });

describe('checkout attempts', () => {
  it('keeps the key when the outcome is unknown, so a retry cannot order twice', () => {
    expect(outcomeOf(new ApiError(0, { title: 'Network error' }))).toBe('retry-same-key');
    expect(outcomeOf(problem(409, 'idempotency-in-flight'))).toBe('retry-same-key');
    expect(outcomeOf(problem(503, 'service-unavailable'))).toBe('retry-same-key');
    expect(outcomeOf(new TypeError('boom'))).toBe('retry-same-key');
  });

  it('ends the attempt on a definitive answer', () => {
    expect(outcomeOf(problem(402, 'payment-declined'))).toBe('done');
    expect(outcomeOf(problem(409, 'out-of-stock'))).toBe('done');
    expect(outcomeOf(problem(422, 'validation'))).toBe('done');
  });

  it('explains a decline and out of stock in words a shopper can act on', () => {
    expect(checkoutMessage(problem(402, 'payment-declined')).title).toBe('Your card was declined');
    const oos = checkoutMessage(problem(409, 'out-of-stock', { errors: [{ field: 'lines[0].quantity', message: 'only 1 of SF-1 available' }] }));
    expect(oos.title).toBe('Some items are out of stock');
    expect(oos.lines).toEqual(['only 1 of SF-1 available']);
    // Short stock found while repricing the cart comes as a plain conflict naming the lines.
    const repriced = checkoutMessage(problem(409, 'conflict', { errors: [{ field: 'lines[1].quantity', message: 'only 0 of SF-2 available' }] }));
    expect(repriced.title).toBe('Some items are out of stock');
    expect(checkoutMessage(problem(409, 'conflict')).title).toBe('Checkout failed');
    expect(checkoutMessage(problem(422, 'validation', { errors: [{ field: 'paymentToken', message: 'required' }] })).lines).toEqual(['paymentToken: required']);
    expect(checkoutMessage(new ApiError(0, {})).detail).toContain('not be charged twice');
  });

  it('makes a new key per attempt', () => {
    const a = newIdempotencyKey();
    const b = newIdempotencyKey();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[\x21-\x7e]{1,255}$/);
  });
});
