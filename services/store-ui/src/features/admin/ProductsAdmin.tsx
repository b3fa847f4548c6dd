import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import MenuItem from '@mui/material/MenuItem';
import Skeleton from '@mui/material/Skeleton';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link as RouterLink } from 'react-router';
import { catalogApi } from '../../api/catalog';
import { Price } from '../../components/Price';
import { EmptyState, ErrorState } from '../../components/States';

type Shown = 'active' | 'draft' | 'archived';

export function ProductsAdmin() {
  const [status, setStatus] = useState<Shown>('active');
  const products = useInfiniteQuery({
    queryKey: ['products', 'admin', status],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      catalogApi.products({ limit: 50, cursor: pageParam, ...(status === 'active' ? {} : { status }) }, signal),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = products.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Box>
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', mb: 2, flexWrap: 'wrap' }}>
        <Typography variant="h1" sx={{ flex: 1 }}>
          Products
        </Typography>
        <TextField select label="Show" value={status} onChange={(e) => setStatus(e.target.value as Shown)} sx={{ width: 160 }} fullWidth={false}>
          <MenuItem value="active">Active</MenuItem>
          <MenuItem value="draft">Drafts</MenuItem>
          <MenuItem value="archived">Archived</MenuItem>
        </TextField>
        <Button variant="contained" component={RouterLink} to="/admin/products/new" data-testid="new-product">
          New product
        </Button>
      </Box>
      {products.isError ? <ErrorState error={products.error} onRetry={() => void products.refetch()} /> : null}
      {products.isPending ? (
        <Skeleton variant="rounded" height={300} />
      ) : items.length === 0 ? (
        <EmptyState title="No products here" />
      ) : (
        <Box sx={{ overflowX: 'auto' }}>
          <Table size="small" aria-label="Products">
            <TableHead>
              <TableRow>
                <TableCell>Product</TableCell>
                <TableCell>Brand</TableCell>
                <TableCell align="right">From</TableCell>
                <TableCell>Variants</TableCell>
                <TableCell>Stock</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {items.map((p) => (
                <TableRow key={p.id} hover>
                  <TableCell>
                    <Box sx={{ display: 'flex', gap: 1, alignItems: 'center' }}>
                      {p.images?.[0] ? <img src={p.images[0].urls.thumbnail} alt="" width={40} height={40} style={{ borderRadius: 4, objectFit: 'cover' }} /> : null}
                      <RouterLink to={`/admin/products/${p.id}`}>{p.title}</RouterLink>
                    </Box>
                  </TableCell>
                  <TableCell>{p.brand}</TableCell>
                  <TableCell align="right">
                    <Price money={p.priceFrom} />
                  </TableCell>
                  <TableCell>{p.variants.length}</TableCell>
                  <TableCell>{p.inStock ? <Chip size="small" color="success" label="In stock" /> : <Chip size="small" label="Out" />}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      )}
      {products.hasNextPage ? (
        <Box sx={{ textAlign: 'center', mt: 2 }}>
          <Button onClick={() => void products.fetchNextPage()} disabled={products.isFetchingNextPage}>
            Show more
          </Button>
        </Box>
      ) : null}
    </Box>
  );
}
