//! Catalogue promotions (automatic sale prices) and discount codes.

import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import FormControlLabel from '@mui/material/FormControlLabel';
import MenuItem from '@mui/material/MenuItem';
import Skeleton from '@mui/material/Skeleton';
import Switch from '@mui/material/Switch';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { cartApi } from '../../api/cart';
import { describeError, fieldErrorMap } from '../../api/problem';
import type { DiscountCode, DiscountCodeInput, Promotion, PromotionInput } from '../../api/types';
import { ErrorState } from '../../components/States';
import { parseMajor, toMajorText } from '../../lib/money';
import {
  describeTarget,
  describeValue,
  isoToLocal,
  localToIso,
  targetFromDraft,
  valueFromDraft,
  valueToDraft,
  type ValueKind,
} from './pricingForms';

interface RuleDraft {
  id: string;
  name: string;
  kind: ValueKind;
  value: string;
  currency: string;
  skus: string;
  productIds: string;
  categoryIds: string;
  startsAt: string;
  endsAt: string;
  active: boolean;
  minimum: string;
  usageLimit: string;
  perCustomerLimit: string;
}

const emptyDraft: RuleDraft = {
  id: '', name: '', kind: 'percent', value: '', currency: 'EUR', skus: '', productIds: '', categoryIds: '',
  startsAt: '', endsAt: '', active: true, minimum: '', usageLimit: '', perCustomerLimit: '',
};

function draftOfPromotion(p: Promotion): RuleDraft {
  const value = valueToDraft(p.value);
  return {
    ...emptyDraft, id: p.id, name: p.name, kind: value.kind, value: value.text, currency: value.currency,
    skus: (p.target.skus ?? []).join(', '), productIds: (p.target.productIds ?? []).join(', '),
    categoryIds: (p.target.categoryIds ?? []).join(', '), startsAt: isoToLocal(p.startsAt), endsAt: isoToLocal(p.endsAt), active: p.active,
  };
}

function draftOfCode(c: DiscountCode): RuleDraft {
  const value = valueToDraft(c.value);
  return {
    ...emptyDraft, id: c.code, name: c.description, kind: value.kind, value: value.text, currency: value.currency,
    skus: (c.target.skus ?? []).join(', '), productIds: (c.target.productIds ?? []).join(', '),
    categoryIds: (c.target.categoryIds ?? []).join(', '), startsAt: isoToLocal(c.startsAt), endsAt: isoToLocal(c.endsAt), active: c.active,
    minimum: c.minimumSubtotal ? toMajorText(c.minimumSubtotal.amount, c.minimumSubtotal.currency) : '',
    usageLimit: c.usageLimit ? String(c.usageLimit) : '', perCustomerLimit: c.perCustomerLimit ? String(c.perCustomerLimit) : '',
  };
}

function RuleForm({ kind, initial, onSaved, onCancel }: { kind: 'promotion' | 'code'; initial: RuleDraft; onSaved: () => void; onCancel: () => void }) {
  const [draft, setDraft] = useState(initial);
  const [local, setLocal] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async (d: RuleDraft) => {
      const value = valueFromDraft(d.kind, d.value, d.currency);
      if (value === null) throw new Error(d.kind === 'percent' ? 'Enter a percentage between 0.01 and 100' : 'Enter an amount, e.g. 5.00');
      const common = {
        value,
        target: targetFromDraft(d.skus, d.productIds, d.categoryIds),
        startsAt: localToIso(d.startsAt),
        endsAt: localToIso(d.endsAt),
        active: d.active,
      };
      if (kind === 'promotion') {
        const input: PromotionInput = { name: d.name.trim(), ...common };
        return cartApi.savePromotion(d.id.trim(), input);
      }
      const minimum = d.minimum.trim() === '' ? null : parseMajor(d.minimum, d.currency);
      if (d.minimum.trim() !== '' && minimum === null) throw new Error('The minimum must be an amount, e.g. 20');
      const input: DiscountCodeInput = {
        description: d.name.trim(),
        ...common,
        minimumSubtotal: minimum === null ? null : { amount: minimum, currency: d.currency },
        usageLimit: d.usageLimit.trim() === '' ? null : Number(d.usageLimit),
        perCustomerLimit: d.perCustomerLimit.trim() === '' ? null : Number(d.perCustomerLimit),
      };
      return cartApi.saveCode(d.id.trim(), input);
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin', kind] });
      onSaved();
    },
    onError: (error) => setLocal(error instanceof Error && !('problem' in error) ? error.message : null),
  });
  const fields = fieldErrorMap(save.error);
  const set = (patch: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setLocal(null);
    save.mutate(draft);
  };
  return (
    <Box component="form" onSubmit={submit} sx={{ display: 'grid', gap: 1.5, gridTemplateColumns: { xs: '1fr', sm: '1fr 1fr 1fr' }, mb: 2 }} data-testid={`${kind}-form`}>
      <TextField label={kind === 'promotion' ? 'Id' : 'Code'} required value={draft.id} onChange={(e) => set({ id: e.target.value })} error={!!(fields.id ?? fields.code)} helperText={fields.id ?? fields.code ?? (kind === 'promotion' ? 'a-z, 0-9 and -' : 'letters, digits, - and _')} />
      <TextField label={kind === 'promotion' ? 'Name shown to shoppers' : 'Description'} required={kind === 'promotion'} value={draft.name} onChange={(e) => set({ name: e.target.value })} error={!!(fields.name ?? fields.description)} helperText={fields.name ?? fields.description} />
      <Box sx={{ display: 'flex', gap: 1 }}>
        <TextField select label="Type" value={draft.kind} onChange={(e) => set({ kind: e.target.value as ValueKind })} sx={{ minWidth: 120 }}>
          <MenuItem value="percent">% off</MenuItem>
          <MenuItem value="fixed">amount off</MenuItem>
        </TextField>
        <TextField label={draft.kind === 'percent' ? 'Percent' : `Amount (${draft.currency})`} required value={draft.value} onChange={(e) => set({ value: e.target.value })} error={!!(fields['value.basisPoints'] ?? fields['value.amount.amount'])} helperText={fields['value.basisPoints'] ?? fields['value.amount.amount']} />
      </Box>
      <TextField label="Category ids" value={draft.categoryIds} onChange={(e) => set({ categoryIds: e.target.value })} helperText="Empty lists: everything" />
      <TextField label="Product ids" value={draft.productIds} onChange={(e) => set({ productIds: e.target.value })} />
      <TextField label="SKUs" value={draft.skus} onChange={(e) => set({ skus: e.target.value })} />
      <TextField label="Starts" type="datetime-local" value={draft.startsAt} onChange={(e) => set({ startsAt: e.target.value })} slotProps={{ inputLabel: { shrink: true } }} />
      <TextField label="Ends" type="datetime-local" value={draft.endsAt} onChange={(e) => set({ endsAt: e.target.value })} error={!!fields.endsAt} helperText={fields.endsAt} slotProps={{ inputLabel: { shrink: true } }} />
      <FormControlLabel control={<Switch checked={draft.active} onChange={(e) => set({ active: e.target.checked })} />} label="Active" />
      {kind === 'code' ? (
        <>
          <TextField label={`Minimum order (${draft.currency})`} value={draft.minimum} onChange={(e) => set({ minimum: e.target.value })} error={!!fields['minimumSubtotal.amount']} helperText={fields['minimumSubtotal.amount']} />
          <TextField label="Uses in total" type="number" value={draft.usageLimit} onChange={(e) => set({ usageLimit: e.target.value })} error={!!fields.usageLimit} helperText={fields.usageLimit ?? '1 = single use; empty = unlimited'} />
          <TextField label="Uses per customer" type="number" value={draft.perCustomerLimit} onChange={(e) => set({ perCustomerLimit: e.target.value })} error={!!fields.perCustomerLimit} helperText={fields.perCustomerLimit} />
        </>
      ) : null}
      {save.isError ? (
        <Alert severity="error" sx={{ gridColumn: '1 / -1' }} role="alert">
          {local ?? describeError(save.error)}
        </Alert>
      ) : null}
      <Box sx={{ gridColumn: '1 / -1', display: 'flex', gap: 1 }}>
        <Button type="submit" variant="contained" disabled={save.isPending}>
          Save
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </Box>
    </Box>
  );
}

function when(startsAt?: string | null, endsAt?: string | null): string {
  const day = (iso: string) => new Date(iso).toLocaleDateString();
  if (!startsAt && !endsAt) return 'always';
  return `${startsAt ? day(startsAt) : '…'} – ${endsAt ? day(endsAt) : '…'}`;
}

export function PromotionsAdmin() {
  const queryClient = useQueryClient();
  const promotions = useQuery({ queryKey: ['admin', 'promotion'], queryFn: ({ signal }) => cartApi.promotions(signal) });
  const codes = useQuery({ queryKey: ['admin', 'code'], queryFn: ({ signal }) => cartApi.codes(signal) });
  const [editing, setEditing] = useState<{ kind: 'promotion' | 'code'; draft: RuleDraft } | null>(null);
  const remove = useMutation({
    mutationFn: ({ kind, id }: { kind: 'promotion' | 'code'; id: string }) => (kind === 'promotion' ? cartApi.deletePromotion(id) : cartApi.deleteCode(id)),
    onSuccess: (_r, { kind }) => queryClient.invalidateQueries({ queryKey: ['admin', kind] }),
  });
  const form = (kind: 'promotion' | 'code') =>
    editing?.kind === kind ? <RuleForm key={editing.draft.id || 'new'} kind={kind} initial={editing.draft} onSaved={() => setEditing(null)} onCancel={() => setEditing(null)} /> : null;
  return (
    <Box sx={{ display: 'grid', gap: 3 }}>
      <Typography variant="h1">Promotions and codes</Typography>
      <Card component="section" aria-labelledby="promotions-title">
        <CardContent>
          <Box sx={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', mb: 2 }}>
            <Typography id="promotions-title" variant="h2">
              Catalogue promotions
            </Typography>
            <Button variant="outlined" onClick={() => setEditing({ kind: 'promotion', draft: emptyDraft })}>
              New promotion
            </Button>
          </Box>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
            Applied automatically as sale prices; the best one per item wins. Then a code, shipping and tax.
          </Typography>
          {form('promotion')}
          {promotions.isPending ? <Skeleton variant="rounded" height={80} /> : null}
          {promotions.isError ? <ErrorState error={promotions.error} onRetry={() => void promotions.refetch()} /> : null}
          {promotions.data ? (
            <Table size="small" aria-label="Promotions">
              <TableHead>
                <TableRow>
                  <TableCell>Name</TableCell>
                  <TableCell>Discount</TableCell>
                  <TableCell>Applies to</TableCell>
                  <TableCell>When</TableCell>
                  <TableCell />
                </TableRow>
              </TableHead>
              <TableBody>
                {promotions.data.items.map((p) => (
                  <TableRow key={p.id} data-testid="promotion-row">
                    <TableCell>
                      {p.name} {p.active ? null : <Chip size="small" label="paused" />}
                    </TableCell>
                    <TableCell>{describeValue(p.value)}</TableCell>
                    <TableCell>{describeTarget(p.target)}</TableCell>
                    <TableCell>{when(p.startsAt, p.endsAt)}</TableCell>
                    <TableCell align="right">
                      <Button size="small" onClick={() => setEditing({ kind: 'promotion', draft: draftOfPromotion(p) })}>
                        Edit
                      </Button>
                      <Button size="small" color="error" onClick={() => remove.mutate({ kind: 'promotion', id: p.id })}>
                        Delete
                      </Button>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          ) : null}
        </CardContent>
      </Card>
      <Card component="section" aria-labelledby="codes-title">
        <CardContent>
          <Box sx={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', mb: 2 }}>
            <Typography id="codes-title" variant="h2">
              Discount codes
            </Typography>
            <Button variant="outlined" onClick={() => setEditing({ kind: 'code', draft: emptyDraft })}>
              New code
            </Button>
          </Box>
          {form('code')}
          {codes.isPending ? <Skeleton variant="rounded" height={80} /> : null}
          {codes.isError ? <ErrorState error={codes.error} onRetry={() => void codes.refetch()} /> : null}
          {codes.data ? (
            <Table size="small" aria-label="Discount codes">
              <TableHead>
                <TableRow>
                  <TableCell>Code</TableCell>
                  <TableCell>Discount</TableCell>
                  <TableCell>Applies to</TableCell>
                  <TableCell>Used</TableCell>
                  <TableCell>When</TableCell>
                  <TableCell />
                </TableRow>
              </TableHead>
              <TableBody>
                {codes.data.items.map((c) => (
                  <TableRow key={c.code} data-testid="code-row">
                    <TableCell>
                      <strong>{c.code}</strong> {c.active ? null : <Chip size="small" label="paused" />}
                      <Typography variant="caption" component="div" color="text.secondary">
                        {c.description}
                      </Typography>
                    </TableCell>
                    <TableCell>
                      {describeValue(c.value)}
                      {c.minimumSubtotal ? ` over ${toMajorText(c.minimumSubtotal.amount, c.minimumSubtotal.currency)}` : ''}
                    </TableCell>
                    <TableCell>{describeTarget(c.target)}</TableCell>
                    <TableCell>
                      {c.timesUsed}
                      {c.usageLimit ? ` / ${c.usageLimit}` : ''}
                      {c.perCustomerLimit ? ` (${c.perCustomerLimit} per customer)` : ''}
                    </TableCell>
                    <TableCell>{when(c.startsAt, c.endsAt)}</TableCell>
                    <TableCell align="right">
                      <Button size="small" onClick={() => setEditing({ kind: 'code', draft: draftOfCode(c) })}>
                        Edit
                      </Button>
                      <Button size="small" color="error" onClick={() => remove.mutate({ kind: 'code', id: c.code })}>
                        Delete
                      </Button>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          ) : null}
          {remove.isError ? <Alert severity="error">{describeError(remove.error)}</Alert> : null}
        </CardContent>
      </Card>
    </Box>
  );
}
