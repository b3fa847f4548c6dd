//! Results with facets, sort and "load more": the body of the search page and of category pages.
//! Filters come from, and go to, the page URL.

import Badge from '@mui/material/Badge';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Drawer from '@mui/material/Drawer';
import IconButton from '@mui/material/IconButton';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useTheme } from '@mui/material/styles';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { searchApi } from '../../api/search';
import { CloseIcon, FilterIcon } from '../../components/icons';
import { EmptyState, ErrorState } from '../../components/States';
import { activeFilterCount, clearFilters, filtersToParams, filtersToQuery, parseFilters, type Filters, type SortOrder } from '../../lib/filters';
import { ProductCard, ProductCardSkeleton, ProductGrid } from '../catalog/ProductCard';
import { categoryNames, useCategories } from '../catalog/useCategories';
import { FacetList } from './FacetList';

const SORTS: { value: SortOrder; label: string }[] = [
  { value: 'relevance', label: 'Best match' },
  { value: 'newest', label: 'Newest' },
  { value: 'price_asc', label: 'Price: low to high' },
  { value: 'price_desc', label: 'Price: high to low' },
];

export function SearchResults({ fixedCategory, title }: { fixedCategory?: string; title: string }) {
  const theme = useTheme();
  const desktop = useMediaQuery(theme.breakpoints.up('md'));
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [params, setParams] = useSearchParams();
  const filters = parseFilters(params);
  const categories = useCategories();
  const names = categoryNames(categories.data);

  const apiFilters: Filters = fixedCategory ? { ...filters, categories: [fixedCategory, ...filters.categories] } : filters;
  const query = filtersToQuery(apiFilters);

  const results = useInfiniteQuery({
    queryKey: ['search', query],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => searchApi.search({ ...query, limit: 24, cursor: pageParam }, signal),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: (previous) => previous,
  });

  const change = (next: Filters) => setParams(filtersToParams(next));
  const first = results.data?.pages[0];
  const hits = results.data?.pages.flatMap((p) => p.items) ?? [];
  const currency = hits.find((h) => h.price)?.price?.currency ?? 'EUR';
  const active = activeFilterCount(filters);

  const facetList = first ? (
    <FacetList
      facets={first.facets}
      filters={filters}
      onChange={(next) => {
        change(next);
      }}
      currency={currency}
      categoryNames={names}
      showCategories={!fixedCategory}
    />
  ) : null;

  return (
    <Box>
      <Box sx={{ display: 'flex', alignItems: 'baseline', flexWrap: 'wrap', gap: 2, mb: 2 }}>
        <Typography variant="h1" sx={{ flex: 1, minWidth: 200 }}>
          {title}
        </Typography>
        <Typography color="text.secondary" role="status" aria-live="polite" data-testid="result-count">
          {first ? `${first.total} ${first.total === 1 ? 'product' : 'products'}` : ''}
        </Typography>
      </Box>
      <Box sx={{ display: 'flex', gap: 1, mb: 2, alignItems: 'center' }}>
        {!desktop ? (
          <Button variant="outlined" startIcon={<Badge badgeContent={active} color="secondary"><FilterIcon /></Badge>} onClick={() => setDrawerOpen(true)}>
            Filters
          </Button>
        ) : null}
        <TextField
          select
          label="Sort by"
          value={filters.sort}
          onChange={(e) => change({ ...filters, sort: e.target.value as SortOrder })}
          sx={{ ml: 'auto', width: 220 }}
          fullWidth={false}
        >
          {SORTS.map((s) => (
            <MenuItem key={s.value} value={s.value}>
              {s.label}
            </MenuItem>
          ))}
        </TextField>
      </Box>
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '240px 1fr' }, gap: 3 }}>
        {desktop ? <Box>{facetList}</Box> : null}
        <Box sx={{ opacity: results.isPlaceholderData ? 0.6 : 1, transition: 'opacity 150ms' }} aria-busy={results.isFetching}>
          {results.isError ? <ErrorState error={results.error} onRetry={() => void results.refetch()} /> : null}
          {results.isPending ? (
            <ProductGrid>
              {Array.from({ length: 8 }, (_, i) => (
                <li key={i}>
                  <ProductCardSkeleton />
                </li>
              ))}
            </ProductGrid>
          ) : hits.length === 0 && !results.isError ? (
            <EmptyState
              title="No products match"
              action={
                active > 0 ? (
                  <Button variant="contained" onClick={() => change(clearFilters(filters))}>
                    Clear filters
                  </Button>
                ) : undefined
              }
            >
              {filters.q ? `Nothing found for “${filters.q}”. Try fewer words or another spelling.` : 'Try removing a filter.'}
            </EmptyState>
          ) : (
            <ProductGrid>
              {hits.map((hit, index) => (
                <li key={hit.id}>
                  <ProductCard
                    eager={index < 4}
                    product={{
                      id: hit.id,
                      slug: hit.slug ?? hit.id,
                      title: hit.title ?? '',
                      brand: hit.brand,
                      price: hit.price,
                      image: hit.image,
                      inStock: hit.inStock,
                    }}
                  />
                </li>
              ))}
            </ProductGrid>
          )}
          {results.hasNextPage ? (
            <Box sx={{ textAlign: 'center', mt: 3 }}>
              <Button variant="outlined" onClick={() => void results.fetchNextPage()} disabled={results.isFetchingNextPage}>
                {results.isFetchingNextPage ? 'Loading…' : 'Show more'}
              </Button>
            </Box>
          ) : null}
        </Box>
      </Box>
      {!desktop ? (
        <Drawer anchor="left" open={drawerOpen} onClose={() => setDrawerOpen(false)} slotProps={{ paper: { sx: { width: 300, p: 2 } } }}>
          <Box sx={{ display: 'flex', alignItems: 'center', mb: 1 }}>
            <Typography variant="h3" sx={{ flex: 1 }}>
              Filters
            </Typography>
            <IconButton aria-label="Close filters" onClick={() => setDrawerOpen(false)}>
              <CloseIcon />
            </IconButton>
          </Box>
          {facetList}
        </Drawer>
      ) : null}
    </Box>
  );
}
