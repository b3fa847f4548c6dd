import Alert from '@mui/material/Alert';
import FormControlLabel from '@mui/material/FormControlLabel';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import type { UseQueryResult } from '@tanstack/react-query';
import type { Quote } from '../../api/types';
import { formatMoney } from '../../lib/money';

/** The shipping methods the store offers for the chosen address, with what each costs this cart. */
export function ShippingStep({
  quote,
  hasAddress,
  selected,
  onSelect,
}: {
  quote: UseQueryResult<Quote>;
  hasAddress: boolean;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  if (!hasAddress) return <Typography color="text.secondary">Choose an address first.</Typography>;
  if (quote.isPending) return <Skeleton variant="rounded" height={64} />;
  if (!quote.isSuccess) return null;
  if (!quote.data.requiresShipping) return <Typography color="text.secondary">Nothing to ship.</Typography>;
  const options = quote.data.shippingOptions;
  if (options.length === 0) {
    return (
      <Alert severity="warning" data-testid="no-shipping">
        We do not ship to this address. Choose another one.
      </Alert>
    );
  }
  return (
    <RadioGroup aria-label="Shipping method" value={selected ?? ''} onChange={(e) => onSelect(e.target.value)}>
      {options.map((o) => (
        <FormControlLabel
          key={o.id}
          value={o.id}
          control={<Radio />}
          label={`${o.name} — ${o.amount.amount === 0 ? 'free' : formatMoney(o.amount)}`}
          data-testid="shipping-option"
        />
      ))}
    </RadioGroup>
  );
}
