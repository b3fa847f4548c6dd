import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Checkbox from '@mui/material/Checkbox';
import Chip from '@mui/material/Chip';
import Collapse from '@mui/material/Collapse';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import FormHelperText from '@mui/material/FormHelperText';
import Skeleton from '@mui/material/Skeleton';
import Switch from '@mui/material/Switch';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { cartApi } from '../../../api/cart';
import { ApiError, describeError } from '../../../api/problem';
import type { WebhookDelivery, WebhookEndpoint } from '../../../api/types';
import { EmptyState, ErrorState } from '../../../components/States';
import { newIdempotencyKey } from '../../checkout/placeOrder';
import { formatDate } from '../../account/orderStatus';
import { deliveryLook, toggleEvent, validateWebhook, type FieldErrors } from './webhookForm';

const KEY = ['admin', 'webhooks'] as const;

function NewEndpointForm({ eventTypes }: { eventTypes: string[] }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>(['order.placed']);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [key, setKey] = useState(newIdempotencyKey);
  const [created, setCreated] = useState<WebhookEndpoint | null>(null);
  const create = useMutation({
    mutationFn: () => cartApi.createWebhook({ url: url.trim(), events, description: description.trim() }, key),
    onSuccess: (endpoint) => {
      setCreated(endpoint);
      setUrl('');
      setDescription('');
      setKey(newIdempotencyKey());
      void queryClient.invalidateQueries({ queryKey: KEY });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) setKey(newIdempotencyKey());
      const fields: FieldErrors = {};
      if (error instanceof ApiError) {
        for (const e of error.fieldErrors) {
          const name = e.field.split('[')[0] as keyof FieldErrors;
          fields[name] = e.message;
        }
      }
      setErrors(fields);
    },
  });
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const found = validateWebhook({ url, description, events });
    setErrors(found);
    if (Object.keys(found).length === 0) create.mutate();
  };
  return (
    <Card component="form" onSubmit={submit} noValidate aria-label="Add an endpoint" sx={{ mb: 3 }}>
      <CardContent sx={{ display: 'grid', gap: 2 }}>
        <Typography variant="h2">Add an endpoint</Typography>
        <TextField label="URL" placeholder="https://example.com/webhooks/storefront" value={url} onChange={(e) => setUrl(e.target.value)} error={Boolean(errors.url)} helperText={errors.url ?? 'Deliveries are POSTed here, signed with the endpoint’s secret.'} required />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={Boolean(errors.description)} helperText={errors.description} />
        <Box component="fieldset" sx={{ border: 0, p: 0, m: 0 }}>
          <Typography component="legend" variant="subtitle2">
            Events
          </Typography>
          <FormGroup row>
            {eventTypes.map((type) => (
              <FormControlLabel key={type} control={<Checkbox checked={events.includes(type)} onChange={() => setEvents((e) => toggleEvent(e, type))} />} label={type} />
            ))}
          </FormGroup>
          {errors.events ? <FormHelperText error>{errors.events}</FormHelperText> : null}
        </Box>
        {create.isError && Object.keys(errors).length === 0 ? <Alert severity="error">{describeError(create.error)}</Alert> : null}
        {created ? (
          <Alert severity="success" data-testid="webhook-secret" onClose={() => setCreated(null)}>
            Endpoint added. Its signing secret: <code>{created.secret}</code> (also shown on the endpoint below).
          </Alert>
        ) : null}
        <Box>
          <Button type="submit" variant="contained" disabled={create.isPending}>
            Add endpoint
          </Button>
        </Box>
      </CardContent>
    </Card>
  );
}

function DeliveryRow({ endpoint, delivery }: { endpoint: string; delivery: WebhookDelivery }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const replay = useMutation({
    mutationFn: () => cartApi.replayDelivery(endpoint, delivery.id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: [...KEY, endpoint, 'deliveries'] }),
  });
  const look = deliveryLook(delivery);
  return (
    <>
      <TableRow data-testid="delivery">
        <TableCell>{delivery.eventType}</TableCell>
        <TableCell>
          <Chip size="small" label={look.label} color={look.color} />
        </TableCell>
        <TableCell align="right">{delivery.attempts}</TableCell>
        <TableCell>{delivery.nextAttemptAt ? formatDate(delivery.nextAttemptAt) : '—'}</TableCell>
        <TableCell>{formatDate(delivery.createdAt)}</TableCell>
        <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
          <Button size="small" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
            Details
          </Button>
          <Button size="small" onClick={() => replay.mutate()} disabled={replay.isPending}>
            Replay
          </Button>
        </TableCell>
      </TableRow>
      <TableRow>
        <TableCell colSpan={6} sx={{ py: 0, borderBottom: open ? undefined : 0 }}>
          <Collapse in={open} unmountOnExit>
            <Box sx={{ py: 1 }}>
              {replay.isError ? <Alert severity="error">{describeError(replay.error)}</Alert> : null}
              {delivery.lastError ? (
                <Typography variant="body2" color="error">
                  Last error: {delivery.lastError}
                </Typography>
              ) : null}
              <Typography variant="caption" color="text.secondary" component="div">
                Event {delivery.eventId}
                {delivery.lastDurationMs != null ? ` · last attempt took ${delivery.lastDurationMs} ms` : ''}
              </Typography>
              <Box component="pre" sx={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 12, m: 0 }}>
                {delivery.body}
              </Box>
            </Box>
          </Collapse>
        </TableCell>
      </TableRow>
    </>
  );
}

function Deliveries({ endpoint }: { endpoint: string }) {
  const deliveries = useInfiniteQuery({
    queryKey: [...KEY, endpoint, 'deliveries'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => cartApi.deliveries(endpoint, pageParam, signal),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 5000,
  });
  const items = deliveries.data?.pages.flatMap((p) => p.items) ?? [];
  if (deliveries.isError) return <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />;
  if (deliveries.isPending) return <Skeleton variant="rounded" height={120} />;
  if (items.length === 0) return <Typography color="text.secondary">No deliveries yet. Send a test ping.</Typography>;
  return (
    <Box sx={{ overflowX: 'auto' }}>
      <Table size="small" aria-label="Deliveries">
        <TableHead>
          <TableRow>
            <TableCell>Event</TableCell>
            <TableCell>Status</TableCell>
            <TableCell align="right">Attempts</TableCell>
            <TableCell>Next attempt</TableCell>
            <TableCell>Created</TableCell>
            <TableCell />
          </TableRow>
        </TableHead>
        <TableBody>
          {items.map((d) => (
            <DeliveryRow key={`${d.id}:${d.attempts}:${d.status}`} endpoint={endpoint} delivery={d} />
          ))}
        </TableBody>
      </Table>
      {deliveries.hasNextPage ? (
        <Button onClick={() => void deliveries.fetchNextPage()} disabled={deliveries.isFetchingNextPage}>
          Older deliveries
        </Button>
      ) : null}
    </Box>
  );
}

function EndpointCard({ endpoint }: { endpoint: WebhookEndpoint }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [showSecret, setShowSecret] = useState(false);
  const detail = useQuery({
    queryKey: [...KEY, endpoint.id],
    queryFn: ({ signal }) => cartApi.webhook(endpoint.id, signal),
    enabled: showSecret,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: KEY });
  const update = useMutation({
    mutationFn: (body: { enabled?: boolean; rotateSecret?: boolean }) => cartApi.updateWebhook(endpoint.id, body),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: () => cartApi.deleteWebhook(endpoint.id), onSuccess: refresh });
  const ping = useMutation({ mutationFn: () => cartApi.pingWebhook(endpoint.id), onSettled: refresh });
  const error = update.error ?? remove.error ?? ping.error;
  return (
    <Card component="li" sx={{ mb: 2 }} data-testid="webhook-endpoint">
      <CardContent sx={{ display: 'grid', gap: 1 }}>
        <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', flexWrap: 'wrap' }}>
          <Typography sx={{ fontFamily: 'monospace', flex: 1, wordBreak: 'break-all' }}>{endpoint.url}</Typography>
          <FormControlLabel
            control={<Switch checked={endpoint.enabled} onChange={(e) => update.mutate({ enabled: e.target.checked })} disabled={update.isPending} />}
            label={endpoint.enabled ? 'Enabled' : 'Disabled'}
          />
        </Box>
        {endpoint.description ? <Typography color="text.secondary">{endpoint.description}</Typography> : null}
        <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
          {endpoint.events.map((e) => (
            <Chip key={e} size="small" label={e} variant="outlined" />
          ))}
        </Box>
        {showSecret ? (
          <Typography variant="body2" data-testid="endpoint-secret">
            Signing secret: <code>{detail.data?.secret ?? '…'}</code>
          </Typography>
        ) : null}
        {ping.data ? (
          <Alert severity={ping.data.status === 'succeeded' ? 'success' : 'warning'}>
            Test ping: {deliveryLook(ping.data).label}
            {ping.data.lastError ? ` — ${ping.data.lastError}` : ''}
          </Alert>
        ) : null}
        {error ? <Alert severity="error">{describeError(error)}</Alert> : null}
        <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
          <Button size="small" variant="outlined" onClick={() => ping.mutate()} disabled={ping.isPending}>
            Send test ping
          </Button>
          <Button size="small" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
            {open ? 'Hide deliveries' : 'Deliveries'}
          </Button>
          <Button size="small" onClick={() => setShowSecret((s) => !s)}>
            {showSecret ? 'Hide secret' : 'Reveal secret'}
          </Button>
          <Button
            size="small"
            onClick={() => {
              if (window.confirm('Issue a new signing secret? The old one stops working at once.')) update.mutate({ rotateSecret: true });
            }}
          >
            Rotate secret
          </Button>
          <Button
            size="small"
            color="error"
            onClick={() => {
              if (window.confirm('Delete this endpoint and its delivery log?')) remove.mutate();
            }}
            disabled={remove.isPending}
          >
            Delete
          </Button>
        </Box>
        <Collapse in={open} unmountOnExit>
          <Deliveries endpoint={endpoint.id} />
        </Collapse>
      </CardContent>
    </Card>
  );
}

/** Webhook endpoints: add, enable/disable, test-ping, rotate secrets, and read and replay deliveries. */
export function WebhooksAdmin() {
  const list = useQuery({ queryKey: KEY, queryFn: ({ signal }) => cartApi.webhooks(signal) });
  return (
    <Box>
      <Typography variant="h1" sx={{ mb: 2 }}>
        Webhooks
      </Typography>
      {list.isError ? <ErrorState error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.isPending ? (
        <Skeleton variant="rounded" height={240} />
      ) : list.data ? (
        <>
          <NewEndpointForm eventTypes={list.data.eventTypes} />
          {list.data.items.length === 0 ? (
            <EmptyState title="No endpoints yet" />
          ) : (
            <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0 }}>
              {list.data.items.map((e) => (
                <EndpointCard key={`${e.id}:${e.version}`} endpoint={e} />
              ))}
            </Box>
          )}
        </>
      ) : null}
    </Box>
  );
}
