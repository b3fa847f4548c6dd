import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Skeleton from '@mui/material/Skeleton';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { cartApi } from '../../api/cart';
import { catalogApi } from '../../api/catalog';
import { ApiError } from '../../api/problem';
import { ErrorState } from '../../components/States';
import { formatMoney } from '../../lib/money';

const LOW_STOCK_THRESHOLD = 5;

/** Local midnight as RFC 3339 (UTC). */
export function startOfToday(now = new Date()): string {
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return midnight.toISOString();
}

function notAvailable(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 405 || error.status === 501);
}

function Tile({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <Card>
      <CardContent>
        <Typography variant="body2" color="text.secondary">
          {label}
        </Typography>
        <Typography variant="h4" component="p" sx={{ fontWeight: 700 }} data-testid={testId}>
          {children}
        </Typography>
      </CardContent>
    </Card>
  );
}

function Summary() {
  const since = startOfToday();
  const summary = useQuery({ queryKey: ['admin', 'summary', since], queryFn: ({ signal }) => cartApi.summary(since, signal), retry: false });
  if (summary.isPending) return <Skeleton variant="rounded" height={110} />;
  if (summary.isError) {
    return notAvailable(summary.error) ? (
      <Alert severity="info" data-testid="summary-unavailable">
        Today’s orders and revenue are not available yet: the cart service does not offer its order summary.
      </Alert>
    ) : (
      <ErrorState error={summary.error} onRetry={() => void summary.refetch()} />
    );
  }
  const s = summary.data;
  return (
    <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', sm: 'repeat(3, 1fr)' } }}>
      <Tile label="Orders today" testId="orders-today">{s.orders}</Tile>
      <Tile label="Revenue today">{s.revenue.length === 0 ? formatMoney({ amount: 0, currency: 'EUR' }) : s.revenue.map((m) => formatMoney(m)).join(' + ')}</Tile>
      <Tile label="Cancelled today">{s.cancelled}</Tile>
    </Box>
  );
}

function LowStock() {
  const low = useQuery({
    queryKey: ['admin', 'low-stock'],
    queryFn: ({ signal }) => catalogApi.lowStock(LOW_STOCK_THRESHOLD, 20, signal),
    retry: false,
  });
  return (
    <Card component="section" aria-labelledby="low-stock">
      <CardContent>
        <Typography id="low-stock" variant="h3" sx={{ mb: 1 }}>
          Low stock (≤ {LOW_STOCK_THRESHOLD} available)
        </Typography>
        {low.isPending ? (
          <Skeleton variant="rounded" height={120} />
        ) : low.isError ? (
          notAvailable(low.error) ? (
            <Alert severity="info" data-testid="low-stock-unavailable">
              The low-stock list is not available yet: the catalog does not offer it.
            </Alert>
          ) : (
            <ErrorState error={low.error} onRetry={() => void low.refetch()} />
          )
        ) : low.data.items.length === 0 ? (
          <Typography color="text.secondary">Nothing is running low.</Typography>
        ) : (
          <Box sx={{ overflowX: 'auto' }}>
            <Table size="small">
              <TableHead>
                <TableRow>
                  <TableCell>SKU</TableCell>
                  <TableCell>Product</TableCell>
                  <TableCell align="right">On hand</TableCell>
                  <TableCell align="right">Reserved</TableCell>
                  <TableCell align="right">Available</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {low.data.items.map((item) => (
                  <TableRow key={item.sku}>
                    <TableCell>{item.sku}</TableCell>
                    <TableCell>
                      {item.title ?? item.productId}
                      {item.variantTitle ? ` (${item.variantTitle})` : ''}
                    </TableCell>
                    <TableCell align="right">{item.onHand}</TableCell>
                    <TableCell align="right">{item.reserved}</TableCell>
                    <TableCell align="right">{item.available}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        )}
      </CardContent>
    </Card>
  );
}

export function Dashboard() {
  return (
    <Box sx={{ display: 'grid', gap: 3 }}>
      <Typography variant="h1">Today</Typography>
      <Summary />
      <LowStock />
    </Box>
  );
}
