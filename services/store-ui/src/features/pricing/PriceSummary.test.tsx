import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { PricedOrder } from '../../api/types';
import { PriceSummary } from './PriceSummary';

const eur = (amount: number) => ({ amount, currency: 'EUR' });

const pricing: PricedOrder = {
  currency: 'EUR',
  lines: [],
  discountCode: 'WELCOME10',
  shipping: { methodId: 'express', name: 'Express', amount: eur(1490), tax: eur(238) },
  taxRateBasisPoints: 1900,
  pricesIncludeTax: true,
  subtotal: eur(10_000),
  promotionSavings: eur(1500),
  discount: eur(1000),
  shippingAmount: eur(1490),
  tax: eur(1675),
  total: eur(10_490),
};

describe('PriceSummary', () => {
  it('shows subtotal, code, shipping, tax and total in pricing order', () => {
    render(<PriceSummary pricing={pricing} />);
    const rows = ['summary-subtotal', 'summary-discount', 'summary-shipping', 'summary-tax', 'summary-total'].map((id) => screen.getByTestId(id).textContent);
    expect(rows[0]).toContain('€100.00');
    expect(rows[1]).toContain('WELCOME10');
    expect(rows[1]).toContain('-€10.00');
    expect(rows[2]).toContain('Express');
    expect(rows[3]).toBe('Tax included (19 %)€16.75');
    expect(rows[4]).toContain('€104.90');
    expect(screen.getByTestId('summary-savings').textContent).toContain('€15.00');
  });

  it('leaves out what is not there', () => {
    render(<PriceSummary pricing={{ ...pricing, discountCode: undefined, discount: eur(0), shipping: undefined, shippingAmount: eur(0), promotionSavings: eur(0), pricesIncludeTax: false }} />);
    expect(screen.queryByTestId('summary-discount')).toBeNull();
    expect(screen.queryByTestId('summary-shipping')).toBeNull();
    expect(screen.queryByTestId('summary-savings')).toBeNull();
    expect(screen.getByTestId('summary-tax').textContent).toContain('Tax (19 %)');
  });
});
