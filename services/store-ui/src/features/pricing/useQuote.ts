import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { cartApi } from '../../api/cart';
import { ApiError } from '../../api/problem';
import type { Cart, PricingChoices } from '../../api/types';
import { useCart, useCartKey } from '../cart/useCart';
import { setDiscountCode } from './discountCode';

/** Whether an error is the server refusing the discount code (it no longer applies). */
export function isCodeRefused(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 422 && error.fieldErrors.some((e) => e.field === 'discountCode');
}

function lineSignature(cart: Cart | undefined): string {
  return (cart?.lines ?? []).map((l) => `${l.sku}×${l.quantity}`).join(',');
}

/** The cart priced by the server with the shopper's choices; re-asked whenever the cart changes. */
export function useQuote(choices: PricingChoices) {
  const cart = useCart();
  const cartKey = useCartKey();
  const quote = useQuery({
    queryKey: ['quote', ...cartKey, lineSignature(cart.data), JSON.stringify(choices)],
    enabled: cart.isSuccess && cart.data.lines.length > 0,
    queryFn: ({ signal }) => cartApi.quote(choices, signal),
    // The last answer stays on screen (and its options clickable) while the next one loads.
    placeholderData: keepPreviousData,
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
  });
  // A code that stopped applying (used up, expired, cart below its minimum) is dropped.
  const refused = quote.isError && isCodeRefused(quote.error);
  useEffect(() => {
    if (refused && choices.discountCode) setDiscountCode(null);
  }, [refused, choices.discountCode]);
  return quote;
}
