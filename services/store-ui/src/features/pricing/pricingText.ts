//! Words for pricing figures.

import type { PricedOrder } from '../../api/types';

/** "20 %" from basis points (2000), keeping decimals only when there are some ("7.5 %"). */
export function percentText(basisPoints: number): string {
  const percent = basisPoints / 100;
  return `${Number.isInteger(percent) ? percent : percent.toFixed(2).replace(/0$/, '')} %`;
}

/** "VAT included (19 %)" or "Tax (8.5 %)". */
export function taxLabel(pricing: Pick<PricedOrder, 'pricesIncludeTax' | 'taxRateBasisPoints'>): string {
  const rate = percentText(pricing.taxRateBasisPoints);
  return pricing.pricesIncludeTax ? `Tax included (${rate})` : `Tax (${rate})`;
}
