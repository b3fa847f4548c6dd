import Box from '@mui/material/Box';
import type { Money } from '../../lib/money';
import { Price } from '../../components/Price';

/** A price, and when a promotion lowers it, the list price struck through and the promotion's name. */
export function SalePrice({ price, listPrice, promotion }: { price: Money; listPrice?: Money; promotion?: string | null }) {
  if (!listPrice || listPrice.amount <= price.amount) return <Price money={price} />;
  return (
    <Box
      component="span"
      data-testid="sale-price"
      sx={{ display: 'inline-flex', flexWrap: 'wrap', alignItems: 'baseline', columnGap: 0.5, maxWidth: '100%' }}
    >
      <Box component="s" sx={{ color: 'text.secondary' }}>
        <Price money={listPrice} />
      </Box>
      <Box component="span" sx={{ color: 'error.main', fontWeight: 700 }}>
        <Price money={price} />
      </Box>
      {promotion ? (
        <Box component="span" sx={{ fontSize: '0.85em', overflowWrap: 'anywhere' }}>
          ({promotion})
        </Box>
      ) : null}
    </Box>
  );
}
