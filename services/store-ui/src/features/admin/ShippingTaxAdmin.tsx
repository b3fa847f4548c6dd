//! Tax rates per country (and whether prices include tax) and shipping zones with their methods.

import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import FormControlLabel from '@mui/material/FormControlLabel';
import IconButton from '@mui/material/IconButton';
import MenuItem from '@mui/material/MenuItem';
import Skeleton from '@mui/material/Skeleton';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { cartApi } from '../../api/cart';
import { describeError, fieldErrorMap } from '../../api/problem';
import type { ShippingMethod, ShippingZone, TaxSettings } from '../../api/types';
import { DeleteIcon } from '../../components/icons';
import { ErrorState } from '../../components/States';
import { formatMoney } from '../../lib/money';
import { percentText } from '../pricing/pricingText';
import { formatTiers, methodFromDraft, methodToDraft, parseBasisPoints, parseList, type MethodDraft, type RateKind } from './pricingForms';

interface RateDraft {
  country: string;
  percent: string;
}

function TaxForm({ initial }: { initial: TaxSettings }) {
  const queryClient = useQueryClient();
  const [included, setIncluded] = useState(initial.pricesIncludeTax);
  const [rates, setRates] = useState<RateDraft[]>(initial.rates.map((r) => ({ country: r.country, percent: String(r.rateBasisPoints / 100) })));
  const [local, setLocal] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (settings: TaxSettings) => cartApi.saveTax(settings),
    onSuccess: (saved) => queryClient.setQueryData(['admin', 'tax'], saved),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = rates.map((r) => ({ country: r.country.trim().toUpperCase(), rateBasisPoints: r.percent.trim() === '0' ? 0 : parseBasisPoints(r.percent) }));
    const bad = parsed.findIndex((r) => r.rateBasisPoints === null);
    if (bad >= 0) {
      setLocal(`Rate ${bad + 1}: enter a percentage between 0 and 100`);
      return;
    }
    setLocal(null);
    save.mutate({ pricesIncludeTax: included, rates: parsed.map((r) => ({ country: r.country, rateBasisPoints: r.rateBasisPoints ?? 0 })) });
  };
  const fields = fieldErrorMap(save.error);
  return (
    <Box component="form" onSubmit={submit} data-testid="tax-form">
      <FormControlLabel control={<Switch checked={included} onChange={(e) => setIncluded(e.target.checked)} />} label="Catalogue prices include tax" />
      <Box sx={{ display: 'grid', gap: 1, my: 2 }}>
        {rates.map((rate, i) => (
          <Box key={i} sx={{ display: 'flex', gap: 1, alignItems: 'flex-start' }}>
            <TextField size="small" label="Country" value={rate.country} onChange={(e) => setRates((rs) => rs.map((r, j) => (j === i ? { ...r, country: e.target.value } : r)))} error={!!fields[`rates[${i}].country`]} helperText={fields[`rates[${i}].country`]} sx={{ width: 120 }} />
            <TextField size="small" label="Rate %" value={rate.percent} onChange={(e) => setRates((rs) => rs.map((r, j) => (j === i ? { ...r, percent: e.target.value } : r)))} error={!!fields[`rates[${i}].rateBasisPoints`]} helperText={fields[`rates[${i}].rateBasisPoints`]} sx={{ width: 120 }} />
            <IconButton aria-label={`Remove rate ${rate.country}`} onClick={() => setRates((rs) => rs.filter((_, j) => j !== i))}>
              <DeleteIcon />
            </IconButton>
          </Box>
        ))}
      </Box>
      <Box sx={{ display: 'flex', gap: 1 }}>
        <Button onClick={() => setRates((rs) => [...rs, { country: '', percent: '' }])}>Add a country</Button>
        <Button type="submit" variant="contained" disabled={save.isPending}>
          Save tax
        </Button>
      </Box>
      {save.isSuccess ? <Alert severity="success" sx={{ mt: 1 }}>Saved.</Alert> : null}
      {local || save.isError ? (
        <Alert severity="error" sx={{ mt: 1 }} role="alert">
          {local ?? describeError(save.error)}
        </Alert>
      ) : null}
      <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>
        Tax is worked out per line and on shipping, rounded half up to the cent on each; countries without a rate pay none.
      </Typography>
    </Box>
  );
}

const emptyMethod = (): MethodDraft => ({ id: '', name: '', kind: 'flat', rate: '', freeOver: '', currency: 'EUR' });

function ZoneForm({ initial, onDone }: { initial: ShippingZone | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [id, setId] = useState(initial?.id ?? '');
  const [name, setName] = useState(initial?.name ?? '');
  const [countries, setCountries] = useState((initial?.countries ?? []).join(', '));
  const [methods, setMethods] = useState<MethodDraft[]>(initial ? initial.methods.map(methodToDraft) : [emptyMethod()]);
  const [local, setLocal] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => {
      const parsed: ShippingMethod[] = [];
      for (const [i, draft] of methods.entries()) {
        const method = methodFromDraft(draft);
        if ('error' in method) throw new Error(`Method ${i + 1}: ${method.error}`);
        parsed.push(method);
      }
      return cartApi.saveZone(id.trim(), {
        name: name.trim(),
        countries: parseList(countries).map((c) => c.toUpperCase()),
        methods: parsed,
      });
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin', 'zones'] });
      onDone();
    },
    onError: (error) => setLocal(error instanceof Error && !('problem' in error) ? error.message : null),
  });
  const fields = fieldErrorMap(save.error);
  const setMethod = (i: number, patch: Partial<MethodDraft>) => setMethods((ms) => ms.map((m, j) => (j === i ? { ...m, ...patch } : m)));
  return (
    <Box
      component="form"
      onSubmit={(e) => {
        e.preventDefault();
        setLocal(null);
        save.mutate();
      }}
      sx={{ display: 'grid', gap: 1.5, mb: 2 }}
      data-testid="zone-form"
    >
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <TextField label="Id" required value={id} onChange={(e) => setId(e.target.value)} disabled={initial !== null} error={!!fields.id} helperText={fields.id ?? 'a-z, 0-9 and -'} />
        <TextField label="Name" required value={name} onChange={(e) => setName(e.target.value)} error={!!fields.name} helperText={fields.name} />
        <TextField label="Countries" required value={countries} onChange={(e) => setCountries(e.target.value)} error={Object.keys(fields).some((f) => f.startsWith('countries'))} helperText={Object.entries(fields).find(([f]) => f.startsWith('countries'))?.[1] ?? 'e.g. DE, AT'} sx={{ minWidth: 240 }} />
      </Box>
      {methods.map((m, i) => (
        <Box key={i} sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'flex-start', pl: 2, borderLeft: 2, borderColor: 'divider' }}>
          <TextField size="small" label="Method id" value={m.id} onChange={(e) => setMethod(i, { id: e.target.value })} error={!!fields[`methods[${i}].id`]} helperText={fields[`methods[${i}].id`]} />
          <TextField size="small" label="Method name" value={m.name} onChange={(e) => setMethod(i, { name: e.target.value })} error={!!fields[`methods[${i}].name`]} helperText={fields[`methods[${i}].name`]} />
          <TextField size="small" select label="Charge" value={m.kind} onChange={(e) => setMethod(i, { kind: e.target.value as RateKind })} sx={{ minWidth: 130 }}>
            <MenuItem value="flat">flat</MenuItem>
            <MenuItem value="byWeight">by weight</MenuItem>
            <MenuItem value="byPrice">by order value</MenuItem>
          </TextField>
          <TextField
            size="small"
            label={m.kind === 'flat' ? `Price (${m.currency})` : m.kind === 'byWeight' ? 'Up to grams: price, …' : 'From amount: price, …'}
            value={m.rate}
            onChange={(e) => setMethod(i, { rate: e.target.value })}
            sx={{ minWidth: 220 }}
          />
          <TextField size="small" label="Free over" value={m.freeOver} onChange={(e) => setMethod(i, { freeOver: e.target.value })} sx={{ width: 110 }} />
          <IconButton aria-label={`Remove method ${m.name || i + 1}`} onClick={() => setMethods((ms) => ms.filter((_, j) => j !== i))}>
            <DeleteIcon />
          </IconButton>
        </Box>
      ))}
      {save.isError ? (
        <Alert severity="error" role="alert">
          {local ?? describeError(save.error)}
        </Alert>
      ) : null}
      <Box sx={{ display: 'flex', gap: 1 }}>
        <Button onClick={() => setMethods((ms) => [...ms, emptyMethod()])}>Add a method</Button>
        <Button type="submit" variant="contained" disabled={save.isPending}>
          Save zone
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </Box>
    </Box>
  );
}

function describeMethod(method: ShippingZone['methods'][number]): string {
  const rate = method.rate.type === 'flat' ? formatMoney(method.rate.amount) : `${method.rate.type === 'byWeight' ? 'by weight' : 'by value'} (${formatTiers(method.rate)})`;
  return `${method.name}: ${rate}${method.freeOver ? `, free over ${formatMoney(method.freeOver)}` : ''}`;
}

export function ShippingTaxAdmin() {
  const queryClient = useQueryClient();
  const tax = useQuery({ queryKey: ['admin', 'tax'], queryFn: ({ signal }) => cartApi.tax(signal) });
  const zones = useQuery({ queryKey: ['admin', 'zones'], queryFn: ({ signal }) => cartApi.zones(signal) });
  const [editing, setEditing] = useState<ShippingZone | 'new' | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => cartApi.deleteZone(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['admin', 'zones'] }),
  });
  return (
    <Box sx={{ display: 'grid', gap: 3 }}>
      <Typography variant="h1">Shipping and tax</Typography>
      <Card component="section" aria-labelledby="zones-title">
        <CardContent>
          <Box sx={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', mb: 2 }}>
            <Typography id="zones-title" variant="h2">
              Shipping zones
            </Typography>
            <Button variant="outlined" onClick={() => setEditing('new')}>
              New zone
            </Button>
          </Box>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
            Each country belongs to one zone; checkout offers that zone's methods. Without any zone, orders need no shipping.
          </Typography>
          {editing !== null ? <ZoneForm key={editing === 'new' ? 'new' : editing.id} initial={editing === 'new' ? null : editing} onDone={() => setEditing(null)} /> : null}
          {zones.isPending ? <Skeleton variant="rounded" height={80} /> : null}
          {zones.isError ? <ErrorState error={zones.error} onRetry={() => void zones.refetch()} /> : null}
          {zones.data?.items.map((zone) => (
            <Box key={zone.id} sx={{ py: 1, borderTop: 1, borderColor: 'divider' }} data-testid="zone-row">
              <Box sx={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
                <Typography sx={{ fontWeight: 600 }}>
                  {zone.name} <Typography component="span" color="text.secondary">({zone.countries.join(', ')})</Typography>
                </Typography>
                <Box>
                  <Button size="small" onClick={() => setEditing(zone)}>
                    Edit
                  </Button>
                  <Button size="small" color="error" onClick={() => remove.mutate(zone.id)}>
                    Delete
                  </Button>
                </Box>
              </Box>
              {zone.methods.map((m) => (
                <Typography key={m.id} variant="body2" sx={{ pl: 2 }}>
                  {describeMethod(m)}
                </Typography>
              ))}
            </Box>
          ))}
        </CardContent>
      </Card>
      <Card component="section" aria-labelledby="tax-title">
        <CardContent>
          <Typography id="tax-title" variant="h2" sx={{ mb: 2 }}>
            Tax
          </Typography>
          {tax.isPending ? <Skeleton variant="rounded" height={80} /> : null}
          {tax.isError ? <ErrorState error={tax.error} onRetry={() => void tax.refetch()} /> : null}
          {tax.data ? (
            <>
              <Typography variant="body2" sx={{ mb: 1 }}>
                {tax.data.rates.map((r) => `${r.country} ${percentText(r.rateBasisPoints)}`).join(' · ') || 'No rates yet.'}
              </Typography>
              <TaxForm key={JSON.stringify(tax.data)} initial={tax.data} />
            </>
          ) : null}
        </CardContent>
      </Card>
    </Box>
  );
}
