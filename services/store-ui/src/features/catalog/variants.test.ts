import { describe, expect, it } from 'vitest';
import type { Variant } from '../../api/types';
import { attributeOptions, initialVariant, isCombinationOffered, matchVariant } from './variants';

const v = (sku: string, attributes: Record<string, string>, inStock = true): Variant => ({
  sku,
  attributes,
  inStock,
  price: { amount: 1000, currency: 'EUR' },
  title: sku,
});

const variants = [v('S-RED', { size: 'S', colour: 'red' }, false), v('M-RED', { size: 'M', colour: 'red' }), v('M-BLUE', { size: 'M', colour: 'blue' })];

describe('variant picker', () => {
  it('lists each attribute’s values once, in order', () => {
    expect(attributeOptions(variants)).toEqual([
      { name: 'size', values: ['S', 'M'] },
      { name: 'colour', values: ['red', 'blue'] },
    ]);
  });

  it('finds the one variant for a full choice', () => {
    expect(matchVariant(variants, { size: 'M', colour: 'blue' })?.sku).toBe('M-BLUE');
    expect(matchVariant(variants, { size: 'M' })).toBeUndefined();
    expect(matchVariant(variants, { size: 'S', colour: 'blue' })).toBeUndefined();
  });

  it('marks combinations no variant offers', () => {
    expect(isCombinationOffered(variants, { size: 'S' }, 'colour', 'blue')).toBe(false);
    expect(isCombinationOffered(variants, { size: 'M' }, 'colour', 'blue')).toBe(true);
  });

  it('starts on a variant in stock', () => {
    expect(initialVariant(variants)?.sku).toBe('M-RED');
  });
});
