import { describe, expect, it } from 'vitest';
import { percentText, taxLabel } from './pricingText';

describe('pricing text', () => {
  it('shows rates as percentages', () => {
    expect(percentText(2000)).toBe('20 %');
    expect(percentText(750)).toBe('7.5 %');
    expect(percentText(0)).toBe('0 %');
  });

  it('says whether tax is included or added', () => {
    expect(taxLabel({ pricesIncludeTax: true, taxRateBasisPoints: 1900 })).toBe('Tax included (19 %)');
    expect(taxLabel({ pricesIncludeTax: false, taxRateBasisPoints: 825 })).toBe('Tax (8.25 %)');
  });
});
