import { describe, expect, it } from 'vitest';
import {
  activeFilterCount,
  clearFilters,
  filtersToParams,
  filtersToQuery,
  parseFilters,
  toggleAttribute,
  toggleBrand,
  withPrice,
} from './filters';

describe('URL filters', () => {
  it('reads every filter from the URL', () => {
    const f = parseFilters(new URLSearchParams('q=travle&brand=Acme&brand=Fjord&price_min=2000&price_max=5000&in_stock=true&attr.colour=red&sort=price_asc'));
    expect(f).toEqual({
      q: 'travle',
      categories: [],
      brands: ['Acme', 'Fjord'],
      priceMin: 2000,
      priceMax: 5000,
      inStock: true,
      attributes: { colour: ['red'] },
      sort: 'price_asc',
    });
  });

  it('ignores malformed values instead of sending them on', () => {
    const f = parseFilters(new URLSearchParams('price_min=abc&price_max=-5&sort=cheapest&attr.=x'));
    expect(f.priceMin).toBeNull();
    expect(f.priceMax).toBeNull();
    expect(f.sort).toBe('relevance');
    expect(f.attributes).toEqual({});
  });

  it('writes filters back to the same URL, so links can be shared', () => {
    const text = 'q=tent&brand=Acme&brand=Fjord&price_min=100&in_stock=true&attr.colour=red&attr.size=M&sort=newest';
    expect(filtersToParams(parseFilters(new URLSearchParams(text))).toString()).toBe(text);
  });

  it('toggles multi-select values on and off', () => {
    let f = parseFilters(new URLSearchParams('q=x'));
    f = toggleBrand(toggleBrand(f, 'Acme'), 'Fjord');
    expect(f.brands).toEqual(['Acme', 'Fjord']);
    f = toggleBrand(f, 'Acme');
    expect(f.brands).toEqual(['Fjord']);
    f = toggleAttribute(f, 'colour', 'red');
    f = toggleAttribute(f, 'colour', 'red');
    expect(f.attributes).toEqual({});
  });

  it('counts and clears active filters but keeps the text and sort', () => {
    let f = parseFilters(new URLSearchParams('q=x&sort=newest'));
    f = withPrice(toggleAttribute(toggleBrand(f, 'Acme'), 'size', 'M'), 100, null);
    expect(activeFilterCount(f)).toBe(3);
    const cleared = clearFilters(f);
    expect(activeFilterCount(cleared)).toBe(0);
    expect(cleared.q).toBe('x');
    expect(cleared.sort).toBe('newest');
  });

  it('gives repeatable search parameters as arrays', () => {
    const q = filtersToQuery(parseFilters(new URLSearchParams('q=x&brand=Acme&category=c1&attr.colour=red')));
    expect(q).toEqual({ q: 'x', brand: ['Acme'], category: ['c1'], 'attr.colour': ['red'] });
  });
});
