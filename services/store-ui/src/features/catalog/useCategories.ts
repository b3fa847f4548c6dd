import { useQuery } from '@tanstack/react-query';
import { catalogApi } from '../../api/catalog';
import type { Category } from '../../api/types';

/** The whole category tree, fetched once and shared. */
export function useCategories() {
  return useQuery({
    queryKey: ['categories'],
    queryFn: ({ signal }) => catalogApi.categories(signal),
    staleTime: 5 * 60_000,
  });
}

export function categoryNames(categories: Category[] | undefined): Map<string, string> {
  return new Map((categories ?? []).map((c) => [c.id, c.name]));
}
