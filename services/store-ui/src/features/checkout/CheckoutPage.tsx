import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import FormControlLabel from '@mui/material/FormControlLabel';
import Link from '@mui/material/Link';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import Skeleton from '@mui/material/Skeleton';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link as RouterLink, useNavigate } from 'react-router';
import { cartApi } from '../../api/cart';
import type { Address, AddressInput, Order, PricingChoices, ShippingAddress } from '../../api/types';
import { usersApi } from '../../api/users';
import { RequireAuth } from '../../app/RequireAuth';
import { Price } from '../../components/Price';
import { EmptyState, ErrorState } from '../../components/States';
import { AddressForm } from '../account/AddressForm';
import { useCart, useCartKey } from '../cart/useCart';
import { DiscountCodeField } from '../pricing/DiscountCodeField';
import { useDiscountCode } from '../pricing/discountCode';
import { PriceSummary } from '../pricing/PriceSummary';
import { useQuote } from '../pricing/useQuote';
import { checkoutMessage, newIdempotencyKey, outcomeOf } from './placeOrder';
import { ShippingStep } from './ShippingStep';

/** The part of a saved address the order keeps. */
export function shippingAddressOf(a: Address): ShippingAddress {
  return { country: a.country, name: a.fullName, line1: a.line1, line2: a.line2 ?? undefined, city: a.city, postalCode: a.postalCode };
}

function formatAddress(a: Address): string {
  return [a.fullName, a.line1, a.line2, `${a.postalCode} ${a.city}`, a.region, a.country].filter(Boolean).join(', ');
}

function AddressStep({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const queryClient = useQueryClient();
  const addresses = useQuery({ queryKey: ['addresses'], queryFn: ({ signal }) => usersApi.addresses(signal) });
  const [adding, setAdding] = useState(false);
  const first = addresses.data?.items[0]?.id ?? null;
  // The first saved address is chosen until the shopper picks another.
  useEffect(() => {
    if (selected === null && first !== null) onSelect(first);
  }, [selected, first, onSelect]);
  const create = useMutation({
    mutationFn: (input: AddressInput) => usersApi.createAddress(input),
    onSuccess: async (address) => {
      await queryClient.invalidateQueries({ queryKey: ['addresses'] });
      onSelect(address.id);
      setAdding(false);
    },
  });
  if (addresses.isPending) return <Skeleton variant="rounded" height={96} />;
  if (addresses.isError) return <ErrorState error={addresses.error} onRetry={() => void addresses.refetch()} />;
  const items = addresses.data.items;
  const current = selected ?? first;
  return (
    <Box>
      {items.length > 0 ? (
        <RadioGroup aria-label="Delivery address" value={current ?? ''} onChange={(e) => onSelect(e.target.value)}>
          {items.map((a) => (
            <FormControlLabel key={a.id} value={a.id} control={<Radio />} label={formatAddress(a)} />
          ))}
        </RadioGroup>
      ) : null}
      {adding || items.length === 0 ? (
        <Box sx={{ mt: 2 }}>
          <AddressForm
            submitLabel="Use this address"
            busy={create.isPending}
            serverError={create.error}
            onSubmit={(input) => create.mutate(input)}
            onCancel={items.length > 0 ? () => setAdding(false) : undefined}
          />
          {create.isError ? <ErrorState error={create.error} /> : null}
        </Box>
      ) : (
        <Button onClick={() => setAdding(true)} sx={{ mt: 1 }}>
          Add a new address
        </Button>
      )}
    </Box>
  );
}

function Checkout() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const cartKey = useCartKey();
  const cart = useCart();
  const [addressId, setAddressId] = useState<string | null>(null);
  const [methodId, setMethodId] = useState<string | null>(null);
  const addresses = useQuery({ queryKey: ['addresses'], queryFn: ({ signal }) => usersApi.addresses(signal) });
  const address = addresses.data?.items.find((a) => a.id === addressId) ?? null;
  const code = useDiscountCode();
  const choices: PricingChoices = {
    ...(address ? { shippingAddress: shippingAddressOf(address) } : {}),
    ...(methodId ? { shippingMethodId: methodId } : {}),
    ...(code ? { discountCode: code } : {}),
  };
  const quote = useQuote(choices);
  const options = quote.data?.shippingOptions ?? [];
  // The first method is chosen until the shopper picks another; a method not offered for the new
  // address is dropped.
  useEffect(() => {
    if (!quote.isSuccess || quote.isPlaceholderData) return;
    if (options.length === 0) {
      if (methodId !== null) setMethodId(null);
    } else if (methodId === null || !options.some((o) => o.id === methodId)) {
      setMethodId(options[0]?.id ?? null);
    }
  }, [quote.isSuccess, quote.isPlaceholderData, options, methodId]);
  const [card, setCard] = useState('4242 4242 4242 4242');
  const [cardError, setCardError] = useState<string | null>(null);
  // The open attempt's key: kept across retries of the same attempt, replaced after a final answer.
  const attemptKey = useRef<string | null>(null);
  const placing = useRef(false);

  const place = useMutation({
    mutationFn: ({ token, key, choices: chosen }: { token: string; key: string; choices: PricingChoices }) => cartApi.checkout(token, key, chosen),
    onSuccess: async (order: Order) => {
      attemptKey.current = null;
      queryClient.setQueryData(cartKey, { lines: [], itemCount: 0 });
      await queryClient.invalidateQueries({ queryKey: ['orders'] });
      void navigate(`/account/orders/${order.id}?placed=1`, { replace: true });
    },
    onError: (error) => {
      if (outcomeOf(error) === 'done') attemptKey.current = null;
      // Not awaited: the button is usable again at once while the cart is re-read.
      void queryClient.invalidateQueries({ queryKey: cartKey });
    },
    onSettled: () => {
      placing.current = false;
    },
  });

  const submit = () => {
    // A second click while the first is on its way does nothing (and would reuse the key anyway).
    if (placing.current) return;
    const digits = card.replace(/\s+/g, '');
    if (!/^\d{12,19}$/.test(digits)) {
      setCardError('Enter the card number (12–19 digits)');
      return;
    }
    setCardError(null);
    placing.current = true;
    attemptKey.current ??= newIdempotencyKey();
    place.mutate({ token: digits, key: attemptKey.current, choices });
  };

  if (cart.isPending) return <Skeleton variant="rounded" height={240} />;
  if (cart.isError) return <ErrorState error={cart.error} onRetry={() => void cart.refetch()} />;
  if (cart.data.lines.length === 0 && !place.isPending) {
    return (
      <EmptyState title="Nothing to check out" action={<Button variant="contained" component={RouterLink} to="/">Start shopping</Button>}>
        Your cart is empty.
      </EmptyState>
    );
  }
  const message = place.isError ? checkoutMessage(place.error) : null;
  return (
    <Box>
      <Typography variant="h1" sx={{ mb: 2 }}>
        Checkout
      </Typography>
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '1fr 340px' }, gap: 3, alignItems: 'start' }}>
        <Box sx={{ display: 'grid', gap: 3 }}>
          <Card component="section" aria-labelledby="delivery">
            <CardContent>
              <Typography id="delivery" variant="h2" sx={{ mb: 2 }}>
                1. Delivery address
              </Typography>
              <AddressStep selected={addressId} onSelect={setAddressId} />
            </CardContent>
          </Card>
          <Card component="section" aria-labelledby="shipping">
            <CardContent>
              <Typography id="shipping" variant="h2" sx={{ mb: 2 }}>
                2. Shipping
              </Typography>
              <ShippingStep quote={quote} hasAddress={address !== null} selected={methodId} onSelect={setMethodId} />
            </CardContent>
          </Card>
          <Card component="section" aria-labelledby="payment">
            <CardContent>
              <Typography id="payment" variant="h2" sx={{ mb: 2 }}>
                3. Payment
              </Typography>
              <TextField
                label="Card number"
                value={card}
                onChange={(e) => setCard(e.target.value)}
                error={cardError !== null}
                helperText={cardError ?? 'Sandbox: 4242 4242 4242 4242 is approved, 4000 0000 0000 0002 is declined.'}
                autoComplete="cc-number"
                slotProps={{ htmlInput: { inputMode: 'numeric', 'data-testid': 'card-number' } }}
              />
            </CardContent>
          </Card>
        </Box>
        <Card component="section" aria-label="Order summary">
          <CardContent>
            <Typography variant="h3" sx={{ mb: 1 }}>
              Order summary
            </Typography>
            <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0 }}>
              {cart.data.lines.map((line) => {
                const priced = quote.data?.pricing?.lines.find((l) => l.sku === line.sku);
                return (
                  <Box component="li" key={line.sku} sx={{ py: 0.5 }} data-testid="summary-line">
                    <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 1 }}>
                      <Typography variant="body2">
                        {line.quantity} × {line.title ?? line.sku}
                        {line.variantTitle ? ` (${line.variantTitle})` : ''}
                      </Typography>
                      <Typography variant="body2">
                        <Price money={priced ? priced.lineAmount : line.lineTotal} />
                      </Typography>
                    </Box>
                    {priced ? (
                      <Typography variant="caption" color="text.secondary" component="div" data-testid="line-tax">
                        {priced.promotion ? `${priced.promotion.name} · ` : ''}
                        {priced.discount.amount > 0 ? (
                          <>
                            code −<Price money={priced.discount} /> ·{' '}
                          </>
                        ) : null}
                        tax <Price money={priced.tax} />
                      </Typography>
                    ) : null}
                  </Box>
                );
              })}
            </Box>
            <DiscountCodeField choices={choices} />
            {quote.data?.pricing ? (
              <PriceSummary pricing={quote.data.pricing} totalTestId="checkout-total" />
            ) : quote.isError ? (
              <ErrorState error={quote.error} onRetry={() => void quote.refetch()} />
            ) : (
              <Skeleton variant="rounded" height={120} />
            )}
            {message ? (
              <Alert severity="error" sx={{ mt: 2 }} role="alert" data-testid="checkout-error">
                <AlertTitle>{message.title}</AlertTitle>
                {message.detail}
                {message.lines.length > 0 ? (
                  <Box component="ul" sx={{ m: 0, pl: 2 }}>
                    {message.lines.map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </Box>
                ) : null}
                {place.error && outcomeOf(place.error) === 'done' ? (
                  <Box sx={{ mt: 1 }}>
                    <Link component={RouterLink} to="/cart">
                      Review your cart
                    </Link>
                  </Box>
                ) : null}
              </Alert>
            ) : null}
            <Button
              fullWidth
              variant="contained"
              size="large"
              sx={{ mt: 2 }}
              disabled={place.isPending || addressId === null || !quote.isSuccess || quote.isPlaceholderData || (quote.data.requiresShipping && methodId === null)}
              onClick={submit}
              data-testid="place-order"
            >
              {place.isPending ? 'Placing your order…' : 'Place order'}
            </Button>
          </CardContent>
        </Card>
      </Box>
    </Box>
  );
}

export default function CheckoutPage() {
  return (
    <RequireAuth>
      <Checkout />
    </RequireAuth>
  );
}
