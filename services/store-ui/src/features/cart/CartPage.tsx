import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Divider from '@mui/material/Divider';
import IconButton from '@mui/material/IconButton';
import Link from '@mui/material/Link';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import { Link as RouterLink } from 'react-router';
import { cartApi } from '../../api/cart';
import { describeError } from '../../api/problem';
import type { CartLine, PricedLine } from '../../api/types';
import { DeleteIcon } from '../../components/icons';
import { Price } from '../../components/Price';
import { EmptyState, ErrorState } from '../../components/States';
import { DiscountCodeField } from '../pricing/DiscountCodeField';
import { useDiscountCode } from '../pricing/discountCode';
import { SalePrice } from '../pricing/SalePrice';
import { useQuote } from '../pricing/useQuote';
import { QuantityPicker } from './QuantityPicker';
import { useCart, useCartMutation } from './useCart';

function LineRow({ line, priced }: { line: CartLine; priced: PricedLine | undefined }) {
  const setQuantity = useCartMutation(({ qty }: { qty: number }) => cartApi.setQuantity(line.sku, qty));
  const remove = useCartMutation(() => cartApi.removeLine(line.sku));
  const busy = setQuantity.isPending || remove.isPending;
  const error = setQuantity.error ?? remove.error;
  return (
    <Box component="li" sx={{ py: 2, display: 'grid', gridTemplateColumns: '72px 1fr auto', gap: 2, alignItems: 'center', opacity: busy ? 0.6 : 1 }} data-testid="cart-line">
      <Box sx={{ width: 72, height: 72, bgcolor: 'grey.100', borderRadius: 1, overflow: 'hidden' }}>
        {line.image ? <img src={line.image} alt="" width={72} height={72} style={{ objectFit: 'cover' }} /> : null}
      </Box>
      <Box sx={{ minWidth: 0 }}>
        <Typography sx={{ fontWeight: 600 }}>{line.title ?? line.sku}</Typography>
        <Typography variant="body2" color="text.secondary">
          {line.variantTitle ? `${line.variantTitle} · ` : ''}
          {priced ? <SalePrice price={priced.unitPrice} listPrice={priced.listUnitPrice} promotion={priced.promotion?.name} /> : <Price money={line.unitPrice} />} each
        </Typography>
        {!line.purchasable ? (
          <Typography variant="body2" color="error">
            No longer sold: remove it to check out.
          </Typography>
        ) : !line.inStock ? (
          <Typography variant="body2" color="error">
            Out of stock
          </Typography>
        ) : line.available < line.quantity ? (
          <Typography variant="body2" color="error">
            Only {line.available} available
          </Typography>
        ) : null}
        <Box sx={{ mt: 1, display: 'flex', alignItems: 'center', gap: 1 }}>
          <QuantityPicker
            label={`Quantity of ${line.title ?? line.sku}`}
            value={line.quantity}
            min={1}
            max={Math.max(line.quantity, Math.min(99, line.available))}
            disabled={busy || !line.purchasable}
            onChange={(qty) => setQuantity.mutate({ qty })}
          />
          <IconButton aria-label={`Remove ${line.title ?? line.sku}`} onClick={() => remove.mutate(undefined)} disabled={busy}>
            <DeleteIcon />
          </IconButton>
        </Box>
        {error ? (
          <Typography variant="body2" color="error" role="alert">
            {describeError(error)}
          </Typography>
        ) : null}
      </Box>
      <Typography sx={{ fontWeight: 700, textAlign: 'right' }}>
        <Price money={priced ? priced.lineAmount : line.lineTotal} />
      </Typography>
    </Box>
  );
}

export default function CartPage() {
  const cart = useCart();
  const code = useDiscountCode();
  const quote = useQuote(code ? { discountCode: code } : {});
  const pricing = quote.data?.pricing ?? null;
  if (cart.isPending) {
    return (
      <Box>
        <Skeleton variant="text" width={200} height={48} />
        {Array.from({ length: 3 }, (_, i) => (
          <Skeleton key={i} variant="rounded" height={88} sx={{ my: 1 }} />
        ))}
      </Box>
    );
  }
  if (cart.isError) return <ErrorState error={cart.error} onRetry={() => void cart.refetch()} />;
  const { lines, subtotal, itemCount } = cart.data;
  if (lines.length === 0) {
    return (
      <EmptyState
        title="Your cart is empty"
        action={
          <Button variant="contained" component={RouterLink} to="/">
            Start shopping
          </Button>
        }
      >
        Find something you like and it will wait for you here.
      </EmptyState>
    );
  }
  const blocked = lines.some((l) => !l.purchasable || !l.inStock || l.available < l.quantity);
  return (
    <Box>
      <Typography variant="h1" sx={{ mb: 2 }}>
        Your cart
      </Typography>
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '1fr 320px' }, gap: 3, alignItems: 'start' }}>
        <Card>
          <CardContent>
            <Box component="ul" sx={{ listStyle: 'none', m: 0, p: 0, '& > li + li': { borderTop: 1, borderColor: 'divider' } }}>
              {lines.map((line) => (
                <LineRow key={line.sku} line={line} priced={pricing?.lines.find((l) => l.sku === line.sku)} />
              ))}
            </Box>
          </CardContent>
        </Card>
        <Card component="section" aria-label="Order summary">
          <CardContent>
            <Box sx={{ display: 'flex', justifyContent: 'space-between', mb: 1 }}>
              <Typography>Items</Typography>
              <Typography>{itemCount}</Typography>
            </Box>
            <Divider sx={{ my: 1 }} />
            <Box sx={{ display: 'flex', justifyContent: 'space-between', mb: 1 }}>
              <Typography sx={{ fontWeight: 700 }}>Subtotal</Typography>
              <Typography sx={{ fontWeight: 700 }} data-testid="cart-subtotal">
                <Price money={pricing ? pricing.subtotal : subtotal} />
              </Typography>
            </Box>
            {pricing && pricing.discount.amount > 0 ? (
              <Box sx={{ display: 'flex', justifyContent: 'space-between', mb: 1 }}>
                <Typography>Discount ({pricing.discountCode})</Typography>
                <Typography data-testid="cart-discount">
                  <Price money={{ amount: -pricing.discount.amount, currency: pricing.currency }} />
                </Typography>
              </Box>
            ) : null}
            <DiscountCodeField />
            <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
              Shipping and tax are worked out at checkout from your address.
            </Typography>
            {blocked ? (
              <Alert severity="warning" sx={{ mb: 2 }}>
                Some lines cannot be bought as they are. Adjust them to check out.
              </Alert>
            ) : null}
            <Button fullWidth variant="contained" size="large" component={RouterLink} to="/checkout" disabled={blocked} data-testid="go-to-checkout">
              Check out
            </Button>
            <Typography variant="body2" sx={{ mt: 2, textAlign: 'center' }}>
              <Link component={RouterLink} to="/">
                Continue shopping
              </Link>
            </Typography>
          </CardContent>
        </Card>
      </Box>
    </Box>
  );
}
