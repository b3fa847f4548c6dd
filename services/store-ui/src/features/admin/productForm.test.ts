import { describe, expect, it } from 'vitest';
import { draftToInput, emptyDraft, parseAttributes, slugify, validateDraft } from './productForm';

describe('product form', () => {
  it('makes slugs from titles', () => {
    expect(slugify('  Crème Brûlée Tent, 2 people! ')).toBe('creme-brulee-tent-2-people');
  });

  it('parses variant attributes and refuses half-written ones', () => {
    expect(parseAttributes('Colour: red; size: M')).toEqual({ colour: 'red', size: 'M' });
    expect(parseAttributes('')).toEqual({});
    expect(parseAttributes('colour')).toBeNull();
  });

  it('flags what the catalog would refuse', () => {
    const draft = { ...emptyDraft(), title: 'Tent', slug: 'Tent!', variants: [{ sku: 'a b', title: '', price: '1.999', currency: 'EUR', attributes: '', stock: 'x', weightGrams: '0' }] };
    expect(Object.keys(validateDraft(draft)).sort()).toEqual(['slug', 'variants[0].price', 'variants[0].sku', 'variants[0].stock', 'variants[0].weightGrams']);
  });

  it('sends prices in minor units and stock only when given', () => {
    const draft = {
      ...emptyDraft(),
      title: 'Tent',
      slug: 'tent',
      variants: [
        { sku: 'T-1', title: 'red', price: '19.99', currency: 'EUR', attributes: 'colour: red', stock: '7', weightGrams: '350' },
        { sku: 'T-2', title: '', price: '20', currency: 'EUR', attributes: '', stock: '', weightGrams: '' },
      ],
    };
    expect(validateDraft(draft)).toEqual({});
    const input = draftToInput(draft);
    expect(input.variants[0]).toEqual({ sku: 'T-1', title: 'red', price: { amount: 1999, currency: 'EUR' }, attributes: { colour: 'red' }, stock: 7, weightGrams: 350 });
    expect(input.variants[1]).toEqual({ sku: 'T-2', title: null, price: { amount: 2000, currency: 'EUR' }, attributes: {} });
  });
});
