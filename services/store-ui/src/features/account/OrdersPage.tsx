import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link as RouterLink } from 'react-router';
import { cartApi } from '../../api/cart';
import { RequireAuth } from '../../app/RequireAuth';
import { Price } from '../../components/Price';
import { EmptyState, ErrorState } from '../../components/States';
import { OrderStatusChip, formatDate } from './orderStatus';

function Orders() {
  const orders = useInfiniteQuery({
    queryKey: ['orders'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => cartApi.orders(pageParam, signal),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  if (orders.isPending) return <>{Array.from({ length: 3 }, (_, i) => <Skeleton key={i} variant="rounded" height={72} sx={{ my: 1 }} />)}</>;
  if (orders.isError) return <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />;
  const items = orders.data.pages.flatMap((p) => p.items);
  if (items.length === 0) {
    return (
      <EmptyState title="No orders yet" action={<Button variant="contained" component={RouterLink} to="/">Start shopping</Button>}>
        Orders you place appear here.
      </EmptyState>
    );
  }
  return (
    <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 1.5 }}>
      {items.map((order) => (
        <li key={order.id}>
          <Card>
            <CardActionArea component={RouterLink} to={`/account/orders/${order.id}`} sx={{ p: 2, display: 'flex', gap: 2, justifyContent: 'space-between', flexWrap: 'wrap' }} data-testid="order-row">
              <Box>
                <Typography sx={{ fontWeight: 600 }}>Order {order.id.slice(-8).toUpperCase()}</Typography>
                <Typography variant="body2" color="text.secondary">
                  {formatDate(order.createdAt)} · {order.lines.reduce((n, l) => n + l.quantity, 0)} items
                </Typography>
              </Box>
              <Box sx={{ display: 'flex', gap: 2, alignItems: 'center' }}>
                <OrderStatusChip status={order.status} />
                <Typography sx={{ fontWeight: 700 }}>
                  <Price money={order.total} />
                </Typography>
              </Box>
            </CardActionArea>
          </Card>
        </li>
      ))}
      {orders.hasNextPage ? (
        <Button onClick={() => void orders.fetchNextPage()} disabled={orders.isFetchingNextPage}>
          Show older orders
        </Button>
      ) : null}
    </Box>
  );
}

export default function OrdersPage() {
  return (
    <RequireAuth>
      <Typography variant="h1" sx={{ mb: 2 }}>
        Your orders
      </Typography>
      <Orders />
    </RequireAuth>
  );
}
