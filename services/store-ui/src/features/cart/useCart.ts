import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { cartApi } from '../../api/cart';
import { ApiError } from '../../api/problem';
import type { Cart } from '../../api/types';
import { useAuth } from '../../auth/AuthProvider';

export function useCartKey(): readonly unknown[] {
  const { user } = useAuth();
  return ['cart', user?.id ?? 'guest'];
}

/** The cart as the server prices it; a guest without a cart yet has an empty one. */
export function useCart() {
  const key = useCartKey();
  const { restoring } = useAuth();
  return useQuery({
    queryKey: key,
    enabled: !restoring,
    queryFn: async ({ signal }): Promise<Cart> => {
      try {
        return await cartApi.get(signal);
      } catch (error) {
        // A guest whose cart expired (or never existed) simply has an empty one.
        if (error instanceof ApiError && error.status === 404) {
          return { lines: [], itemCount: 0 };
        }
        throw error;
      }
    },
  });
}

/** Cart changes answer with the whole cart, which replaces the cached one. */
export function useCartMutation<A>(change: (args: A) => Promise<Cart>) {
  const key = useCartKey();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: (cart) => queryClient.setQueryData(key, cart),
  });
}
