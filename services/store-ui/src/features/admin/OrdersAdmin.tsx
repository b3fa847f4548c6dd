import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Collapse from '@mui/material/Collapse';
import MenuItem from '@mui/material/MenuItem';
import Skeleton from '@mui/material/Skeleton';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { cartApi } from '../../api/cart';
import { describeError } from '../../api/problem';
import type { Order, OrderStatus } from '../../api/types';
import { Price } from '../../components/Price';
import { toMajorText } from '../../lib/money';
import { newIdempotencyKey } from '../checkout/placeOrder';
import { parseRefundAmount, refundable, retryWithSameKey } from './refund';
import { EmptyState, ErrorState } from '../../components/States';
import { OrderDetail } from '../account/OrderPage';
import { OrderStatusChip, formatDate } from '../account/orderStatus';

function RefundForm({ order, onDone }: { order: Order; onDone: () => void }) {
  const queryClient = useQueryClient();
  const left = refundable(order);
  const currency = order.total.currency;
  const [amount, setAmount] = useState(toMajorText(left, currency));
  const [reason, setReason] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [key, setKey] = useState(newIdempotencyKey);
  const refund = useMutation({
    mutationFn: (minor: number) => cartApi.refund(order.id, minor === left ? null : { amount: minor, currency }, reason.trim(), key),
    onSuccess: () => {
      setKey(newIdempotencyKey());
      void queryClient.invalidateQueries({ queryKey: ['admin', 'orders'] });
      onDone();
    },
    onError: (error) => {
      // An unknown outcome keeps the key, so pressing again cannot refund twice.
      if (!retryWithSameKey(error)) setKey(newIdempotencyKey());
    },
  });
  return (
    <Box
      component="form"
      aria-label="Refund"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const parsed = parseRefundAmount(amount, currency, left);
        setFieldError(parsed.ok ? null : parsed.message);
        if (parsed.ok) refund.mutate(parsed.amount);
      }}
      sx={{ display: 'flex', gap: 1, alignItems: 'flex-start', flexWrap: 'wrap', mt: 1 }}
    >
      <TextField size="small" label={`Amount (${currency})`} value={amount} onChange={(e) => setAmount(e.target.value)} error={Boolean(fieldError)} helperText={fieldError ?? `Up to ${toMajorText(left, currency)}`} slotProps={{ htmlInput: { inputMode: 'decimal' } }} sx={{ width: 180 }} fullWidth={false} />
      <TextField size="small" label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} sx={{ width: 240 }} fullWidth={false} />
      <Button type="submit" variant="contained" color="warning" disabled={refund.isPending}>
        Refund
      </Button>
      {refund.isError ? <Alert severity="error" sx={{ flexBasis: '100%' }}>{describeError(refund.error)}</Alert> : null}
    </Box>
  );
}

function OrderRow({ order }: { order: Order }) {
  const [refunding, setRefunding] = useState(false);
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const change = useMutation({
    mutationFn: (status: 'SHIPPED' | 'CANCELLED') => cartApi.changeStatus(order.id, status, order.version, status === 'CANCELLED' ? 'cancelled by the shop' : undefined),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['admin', 'orders'] }),
  });
  return (
    <Box component="li" sx={{ borderBottom: 1, borderColor: 'divider', py: 1.5 }}>
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', flexWrap: 'wrap' }}>
        <Button onClick={() => setOpen((o) => !o)} aria-expanded={open} sx={{ fontFamily: 'monospace' }}>
          {order.id.slice(-8).toUpperCase()}
        </Button>
        <Typography variant="body2" color="text.secondary" sx={{ flex: 1 }}>
          {formatDate(order.createdAt)} · {order.lines.length} lines
        </Typography>
        <OrderStatusChip status={order.status} />
        <Typography sx={{ fontWeight: 700, minWidth: 90, textAlign: 'right' }}>
          <Price money={order.total} />
        </Typography>
        {order.status === 'CONFIRMED' ? (
          <Box sx={{ display: 'flex', gap: 1 }}>
            <Button size="small" variant="outlined" onClick={() => change.mutate('SHIPPED')} disabled={change.isPending} title="Captures the payment">
              Mark shipped
            </Button>
            <Button
              size="small"
              color="error"
              onClick={() => {
                if (window.confirm('Cancel this order? The payment authorization is voided and the stock returned.')) change.mutate('CANCELLED');
              }}
              disabled={change.isPending}
            >
              Cancel
            </Button>
          </Box>
        ) : null}
        {order.status === 'SHIPPED' && refundable(order) > 0 ? (
          <Button size="small" color="warning" onClick={() => setRefunding((r) => !r)} aria-expanded={refunding}>
            Refund…
          </Button>
        ) : null}
      </Box>
      {refunding && order.status === 'SHIPPED' ? <RefundForm order={order} onDone={() => setRefunding(false)} /> : null}
      {change.isError ? <Alert severity="error" sx={{ mt: 1 }}>{describeError(change.error)}</Alert> : null}
      <Collapse in={open} unmountOnExit>
        <Box sx={{ mt: 1 }}>
          <OrderDetail order={order} />
        </Box>
      </Collapse>
    </Box>
  );
}

export function OrdersAdmin() {
  const [status, setStatus] = useState<OrderStatus | ''>('');
  const orders = useInfiniteQuery({
    queryKey: ['admin', 'orders', status],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => cartApi.adminOrders(status, pageParam, signal),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Box>
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', mb: 2 }}>
        <Typography variant="h1" sx={{ flex: 1 }}>
          Orders
        </Typography>
        <TextField select label="Status" value={status} onChange={(e) => setStatus(e.target.value as OrderStatus | '')} sx={{ width: 180 }} fullWidth={false}>
          <MenuItem value="">All</MenuItem>
          {(['PENDING', 'CONFIRMED', 'SHIPPED', 'REFUNDED', 'CANCELLED', 'EXPIRED', 'FAILED'] as const).map((s) => (
            <MenuItem key={s} value={s}>
              {s.charAt(0) + s.slice(1).toLowerCase()}
            </MenuItem>
          ))}
        </TextField>
      </Box>
      {orders.isError ? <ErrorState error={orders.error} onRetry={() => void orders.refetch()} /> : null}
      {orders.isPending ? (
        <Skeleton variant="rounded" height={300} />
      ) : items.length === 0 ? (
        <EmptyState title="No orders" />
      ) : (
        <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0 }}>
          {items.map((o) => (
            <OrderRow key={`${o.id}:${o.version}`} order={o} />
          ))}
        </Box>
      )}
      {orders.hasNextPage ? (
        <Box sx={{ textAlign: 'center', mt: 2 }}>
          <Button onClick={() => void orders.fetchNextPage()} disabled={orders.isFetchingNextPage}>
            Show more
          </Button>
        </Box>
      ) : null}
    </Box>
  );
}
