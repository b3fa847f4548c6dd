import Box from '@mui/material/Box';
import Divider from '@mui/material/Divider';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import type { PricedOrder } from '../../api/types';
import { Price } from '../../components/Price';
import { taxLabel } from './pricingText';

function Row({ label, children, testId, strong = false }: { label: string; children: ReactNode; testId: string; strong?: boolean }) {
  return (
    <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 1, py: 0.25 }} data-testid={testId}>
      <Typography sx={{ fontWeight: strong ? 700 : 400 }}>{label}</Typography>
      <Typography sx={{ fontWeight: strong ? 700 : 400 }}>
        {children}
      </Typography>
    </Box>
  );
}

/** Subtotal → code discount → shipping → tax → total, as the server priced them. */
export function PriceSummary({ pricing, totalTestId = 'summary-total' }: { pricing: PricedOrder; totalTestId?: string }) {
  const negative = (amount: number) => ({ amount: -amount, currency: pricing.currency });
  return (
    <Box aria-label="Price summary">
      <Row label="Subtotal" testId="summary-subtotal">
        <Price money={pricing.subtotal} />
      </Row>
      {pricing.promotionSavings.amount > 0 ? (
        <Typography variant="body2" color="success.main" data-testid="summary-savings">
          Includes <Price money={pricing.promotionSavings} /> of sale savings
        </Typography>
      ) : null}
      {pricing.discount.amount > 0 ? (
        <Row label={`Discount${pricing.discountCode ? ` (${pricing.discountCode})` : ''}`} testId="summary-discount">
          <Price money={negative(pricing.discount.amount)} />
        </Row>
      ) : null}
      {pricing.shipping ? (
        <Row label={`Shipping (${pricing.shipping.name})`} testId="summary-shipping">
          <Price money={pricing.shippingAmount} />
        </Row>
      ) : null}
      <Row label={taxLabel(pricing)} testId="summary-tax">
        <Price money={pricing.tax} />
      </Row>
      <Divider sx={{ my: 1 }} />
      <Row label="Total" testId={totalTestId} strong>
        <Price money={pricing.total} />
      </Row>
    </Box>
  );
}
