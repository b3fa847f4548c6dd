import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/problem';
import { parseRefundAmount, refundable, retryWithSameKey } from './refund';

const eur = (amount: number) => ({ amount, currency: 'EUR' });

describe('refunds', () => {
  it('leaves what was captured and not yet refunded', () => {
    expect(refundable({ captured: eur(3000), refunded: eur(1000) })).toBe(2000);
    expect(refundable({ captured: eur(0), refunded: eur(0) })).toBe(0);
    expect(refundable({ captured: eur(100), refunded: eur(100) })).toBe(0);
  });

  it('reads major units and keeps the amount within what is left', () => {
    expect(parseRefundAmount('12.50', 'EUR', 2000)).toEqual({ ok: true, amount: 1250 });
    expect(parseRefundAmount(' 20 ', 'EUR', 2000)).toEqual({ ok: true, amount: 2000 });
    expect(parseRefundAmount('20.01', 'EUR', 2000)).toMatchObject({ ok: false });
    expect(parseRefundAmount('0', 'EUR', 2000)).toMatchObject({ ok: false });
    expect(parseRefundAmount('abc', 'EUR', 2000)).toMatchObject({ ok: false });
    expect(parseRefundAmount('500', 'JPY', 1000)).toEqual({ ok: true, amount: 500 });
  });

  it('keeps the key while the outcome is unknown or the provider failed', () => {
    expect(retryWithSameKey(new TypeError('network'))).toBe(true);
    expect(retryWithSameKey(new ApiError(502, { type: 'https://storefront.dev/problems/payment-provider-failed' }))).toBe(true);
    expect(retryWithSameKey(new ApiError(422, { title: 'Invalid' }))).toBe(false);
    expect(retryWithSameKey(new ApiError(409, { type: 'https://storefront.dev/problems/payment-refused' }))).toBe(false);
  });
});
