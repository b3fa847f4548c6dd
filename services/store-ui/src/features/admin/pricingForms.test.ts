import { describe, expect, it } from 'vitest';
import {
  describeTarget,
  methodFromDraft,
  methodToDraft,
  parseBasisPoints,
  parseList,
  parseTiers,
  valueFromDraft,
  valueToDraft,
} from './pricingForms';

describe('pricing forms', () => {
  it('reads percentages as basis points and refuses what is not one', () => {
    expect(parseBasisPoints('10')).toBe(1000);
    expect(parseBasisPoints('12.5')).toBe(1250);
    expect(parseBasisPoints('0')).toBeNull();
    expect(parseBasisPoints('101')).toBeNull();
    expect(parseBasisPoints('ten')).toBeNull();
  });

  it('turns a value draft into the API shape and back', () => {
    expect(valueFromDraft('percent', '15', 'EUR')).toEqual({ type: 'percent', basisPoints: 1500 });
    const fixed = valueFromDraft('fixed', '5.50', 'EUR');
    expect(fixed).toEqual({ type: 'fixed', amount: { amount: 550, currency: 'EUR' } });
    expect(fixed && valueToDraft(fixed)).toEqual({ kind: 'fixed', text: '5.50', currency: 'EUR' });
    expect(valueFromDraft('fixed', '0', 'EUR')).toBeNull();
  });

  it('splits lists on commas and spaces', () => {
    expect(parseList(' a, b  c,,')).toEqual(['a', 'b', 'c']);
    expect(describeTarget({ skus: [], productIds: [], categoryIds: [] })).toBe('everything');
    expect(describeTarget({ skus: ['X'], productIds: [], categoryIds: ['c1', 'c2'] })).toBe('SKUs X · 2 categories');
  });

  it('reads weight and price tiers', () => {
    expect(parseTiers('byWeight', '1000: 4.90, 5000: 9.90', 'EUR')).toEqual({
      type: 'byWeight',
      tiers: [
        { upToGrams: 1000, amount: { amount: 490, currency: 'EUR' } },
        { upToGrams: 5000, amount: { amount: 990, currency: 'EUR' } },
      ],
    });
    expect(parseTiers('byPrice', '0: 6.90, 50: 2.90', 'EUR')).toEqual({
      type: 'byPrice',
      tiers: [
        { from: { amount: 0, currency: 'EUR' }, amount: { amount: 690, currency: 'EUR' } },
        { from: { amount: 5000, currency: 'EUR' }, amount: { amount: 290, currency: 'EUR' } },
      ],
    });
    expect(parseTiers('byWeight', '1kg: 4.90', 'EUR')).toBeNull();
  });

  it('round-trips a shipping method through its draft', () => {
    const method = {
      id: 'standard',
      name: 'Standard',
      rate: { type: 'byWeight' as const, tiers: [{ upToGrams: 1000, amount: { amount: 490, currency: 'EUR' } }] },
      freeOver: { amount: 10000, currency: 'EUR' },
    };
    expect(methodFromDraft(methodToDraft(method))).toEqual(method);
    expect(methodFromDraft({ ...methodToDraft(method), kind: 'flat', rate: 'x' })).toEqual({ error: 'Enter the price, e.g. 4.90' });
  });
});
