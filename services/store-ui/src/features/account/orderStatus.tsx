import Chip from '@mui/material/Chip';
import type { OrderStatus } from '../../api/types';

const LOOK: Record<OrderStatus, { label: string; color: 'default' | 'success' | 'error' | 'info' | 'warning' }> = {
  PENDING: { label: 'Awaiting payment', color: 'warning' },
  CONFIRMED: { label: 'Confirmed', color: 'success' },
  SHIPPED: { label: 'Shipped', color: 'info' },
  CANCELLED: { label: 'Cancelled', color: 'default' },
  FAILED: { label: 'Failed', color: 'error' },
  EXPIRED: { label: 'Expired', color: 'default' },
  REFUNDED: { label: 'Refunded', color: 'default' },
};

export function OrderStatusChip({ status }: { status: OrderStatus }) {
  const look = LOOK[status] ?? { label: status, color: 'default' };
  return <Chip size="small" label={look.label} color={look.color} />;
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
