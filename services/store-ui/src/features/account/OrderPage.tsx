import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import Skeleton from '@mui/material/Skeleton';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import Button from '@mui/material/Button';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link as RouterLink, useParams, useSearchParams } from 'react-router';
import { cartApi } from '../../api/cart';
import { describeError } from '../../api/problem';
import type { Order } from '../../api/types';
import { RequireAuth } from '../../app/RequireAuth';
import { Price } from '../../components/Price';
import { EmptyState, ErrorState, isNotFound } from '../../components/States';
import { PriceSummary } from '../pricing/PriceSummary';
import { SalePrice } from '../pricing/SalePrice';
import { OrderStatusChip, formatDate } from './orderStatus';

export function OrderDetail({ order, asPageTitle = false }: { order: Order; asPageTitle?: boolean }) {
  const pricing = order.pricing;
  const pricedLine = (sku: string) => pricing?.lines.find((l) => l.sku === sku);
  return (
    <Card>
      <CardContent>
        <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', flexWrap: 'wrap', mb: 2 }}>
          <Typography variant="h2" component={asPageTitle ? 'h1' : 'p'}>
            Order {order.id.slice(-8).toUpperCase()}
          </Typography>
          <OrderStatusChip status={order.status} />
          <Typography color="text.secondary">{formatDate(order.createdAt)}</Typography>
        </Box>
        {order.failure ? (
          <Alert severity={order.status === 'EXPIRED' ? 'info' : 'error'} sx={{ mb: 2 }} data-testid="order-failure">
            {order.failure.detail ?? order.failure.reason}
          </Alert>
        ) : null}
        {order.status === 'PENDING' ? (
          <Alert severity="warning" sx={{ mb: 2 }} data-testid="order-awaiting-payment">
            We are waiting for your payment to be completed. The items are held for you; if the payment is not completed in time, the order expires and nothing is charged.
          </Alert>
        ) : null}
        <Box sx={{ overflowX: 'auto' }}>
          <Table size="small" aria-label="Order lines">
            <TableHead>
              <TableRow>
                <TableCell>Item</TableCell>
                <TableCell align="right">Qty</TableCell>
                <TableCell align="right">Price</TableCell>
                {pricing ? (
                  <>
                    <TableCell align="right">Discount</TableCell>
                    <TableCell align="right">Tax</TableCell>
                  </>
                ) : null}
                <TableCell align="right">Total</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {order.lines.map((line) => (
                <TableRow key={line.sku} data-testid="order-line">
                  <TableCell>
                    {line.title}
                    {line.variantTitle ? ` (${line.variantTitle})` : ''}
                    <Typography variant="caption" color="text.secondary" component="div">
                      {line.sku}
                    </Typography>
                  </TableCell>
                  <TableCell align="right">{line.quantity}</TableCell>
                  <TableCell align="right">
                    <SalePrice price={line.unitPrice} listPrice={pricedLine(line.sku)?.listUnitPrice} promotion={pricedLine(line.sku)?.promotion?.name} />
                  </TableCell>
                  {pricing ? (
                    <>
                      <TableCell align="right">
                        <Price money={pricedLine(line.sku)?.discount} />
                      </TableCell>
                      <TableCell align="right" data-testid="order-line-tax">
                        <Price money={pricedLine(line.sku)?.tax} />
                      </TableCell>
                    </>
                  ) : null}
                  <TableCell align="right">
                    <Price money={line.lineTotal} />
                  </TableCell>
                </TableRow>
              ))}
              {pricing ? null : (
                <TableRow>
                  <TableCell colSpan={3} sx={{ fontWeight: 700 }}>
                    Total
                  </TableCell>
                  <TableCell align="right" sx={{ fontWeight: 700 }} data-testid="order-total">
                    <Price money={order.total} />
                  </TableCell>
                </TableRow>
              )}
              {order.refunds?.map((refund) => (
                <TableRow key={refund.id} data-testid="order-refund">
                  <TableCell colSpan={3}>
                    Refund {formatDate(refund.createdAt)}
                    {refund.reason ? ` — ${refund.reason}` : ''}
                    {refund.status !== 'succeeded' ? ` (${refund.status})` : ''}
                  </TableCell>
                  <TableCell align="right">
                    −<Price money={refund.amount} />
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
        {pricing ? (
          <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', sm: '1fr 320px' }, gap: 3, mt: 2 }}>
            <Box>
              {pricing.shippingAddress ? (
                <Typography variant="body2" data-testid="order-ship-to">
                  Ships to:{' '}
                  {[pricing.shippingAddress.name, pricing.shippingAddress.line1, pricing.shippingAddress.postalCode, pricing.shippingAddress.city, pricing.shippingAddress.country]
                    .filter(Boolean)
                    .join(', ')}
                </Typography>
              ) : null}
              {pricing.shipping ? (
                <Typography variant="body2" data-testid="order-shipping-method">
                  Shipping: {pricing.shipping.name}
                </Typography>
              ) : null}
            </Box>
            <PriceSummary pricing={pricing} totalTestId="order-total" />
          </Box>
        ) : null}
      </CardContent>
    </Card>
  );
}

function CancelOrder({ order }: { order: Order }) {
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => cartApi.cancelOrder(order.id),
    onSuccess: (updated) => {
      queryClient.setQueryData(['orders', order.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['orders'] });
    },
  });
  if (order.status !== 'CONFIRMED') return null;
  return (
    <Box sx={{ mt: 2 }}>
      {cancel.isError ? (
        <Alert severity="error" sx={{ mb: 1 }}>
          {describeError(cancel.error)}
        </Alert>
      ) : null}
      <Button
        color="error"
        variant="outlined"
        disabled={cancel.isPending}
        onClick={() => {
          if (window.confirm('Cancel this order? Your payment is released and nothing is charged.')) cancel.mutate();
        }}
      >
        Cancel order
      </Button>
    </Box>
  );
}

function OrderView() {
  const { id = '' } = useParams();
  const [params] = useSearchParams();
  const order = useQuery({
    queryKey: ['orders', id],
    queryFn: ({ signal }) => cartApi.order(id, signal),
    // An order awaiting its payment changes on its own: look again now and then.
    refetchInterval: (query) => (query.state.data?.status === 'PENDING' ? 5000 : false),
  });
  if (order.isPending) return <Skeleton variant="rounded" height={240} />;
  if (order.isError) {
    return isNotFound(order.error) ? <EmptyState title="No such order" /> : <ErrorState error={order.error} onRetry={() => void order.refetch()} />;
  }
  return (
    <>
      {params.get('placed') && order.data.status === 'CONFIRMED' ? (
        <Alert severity="success" sx={{ mb: 2 }} data-testid="order-placed">
          Thank you! Your order is confirmed.
        </Alert>
      ) : null}
      <OrderDetail order={order.data} asPageTitle />
      <CancelOrder order={order.data} />
    </>
  );
}

export default function OrderPage() {
  return (
    <RequireAuth>
      <Typography variant="body2" sx={{ mb: 1 }}>
        <Link component={RouterLink} to="/account/orders">
          ← All orders
        </Link>
      </Typography>
      <OrderView />
    </RequireAuth>
  );
}
