import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import TextField from '@mui/material/TextField';
import { useState, type FormEvent } from 'react';
import { fieldErrorMap } from '../../api/problem';
import type { Address, AddressInput } from '../../api/types';

const EMPTY: AddressInput = { fullName: '', line1: '', line2: '', city: '', postalCode: '', region: '', country: '', phone: '', label: '' };

type Key = keyof AddressInput;
const FIELDS: { key: Key; label: string; required: boolean; autoComplete: string; half?: boolean }[] = [
  { key: 'fullName', label: 'Full name', required: true, autoComplete: 'name' },
  { key: 'line1', label: 'Address', required: true, autoComplete: 'address-line1' },
  { key: 'line2', label: 'Apartment, suite (optional)', required: false, autoComplete: 'address-line2' },
  { key: 'postalCode', label: 'Postal code', required: true, autoComplete: 'postal-code', half: true },
  { key: 'city', label: 'City', required: true, autoComplete: 'address-level2', half: true },
  { key: 'region', label: 'Region (optional)', required: false, autoComplete: 'address-level1', half: true },
  { key: 'country', label: 'Country code (e.g. DE)', required: true, autoComplete: 'country', half: true },
  { key: 'phone', label: 'Phone (optional)', required: false, autoComplete: 'tel', half: true },
  { key: 'label', label: 'Label (optional, e.g. Home)', required: false, autoComplete: 'off', half: true },
];

function clean(input: AddressInput): AddressInput {
  const out: AddressInput = { ...input, country: input.country.trim().toUpperCase() };
  for (const key of ['line2', 'region', 'phone', 'label'] as const) {
    const v = out[key];
    if (typeof v === 'string' && v.trim() === '') out[key] = null;
  }
  return out;
}

export function addressToInput(address: Address): AddressInput {
  const { fullName, line1, line2, city, postalCode, region, country, phone, label } = address;
  return { fullName, line1, line2: line2 ?? '', city, postalCode, region: region ?? '', country, phone: phone ?? '', label: label ?? '' };
}

/** Validated on the client for the obvious, then the server's per-field errors are shown beside fields. */
export function AddressForm({ initial, onSubmit, submitLabel, serverError, busy, onCancel }: {
  initial?: AddressInput;
  onSubmit: (input: AddressInput) => void;
  submitLabel: string;
  serverError: unknown;
  busy: boolean;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState<AddressInput>(initial ?? EMPTY);
  const [touched, setTouched] = useState(false);
  const server = fieldErrorMap(serverError);
  const local: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = values[f.key];
    if (f.required && (typeof v !== 'string' || v.trim() === '')) local[f.key] = 'Required';
  }
  if (values.country.trim() && !/^[A-Za-z]{2}$/.test(values.country.trim())) local.country = 'Two letters, e.g. DE';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (Object.keys(local).length === 0) onSubmit(clean(values));
  };
  return (
    <Box component="form" onSubmit={submit} noValidate sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', sm: '1fr 1fr' } }}>
      {FIELDS.map((f) => {
        const message = (touched ? local[f.key] : undefined) ?? server[f.key];
        return (
          <TextField
            key={f.key}
            label={f.label}
            required={f.required}
            value={values[f.key] ?? ''}
            onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
            error={message !== undefined}
            helperText={message}
            autoComplete={f.autoComplete}
            name={f.key}
            sx={{ gridColumn: f.half ? 'auto' : '1 / -1' }}
          />
        );
      })}
      <Box sx={{ gridColumn: '1 / -1', display: 'flex', gap: 1 }}>
        <Button type="submit" variant="contained" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </Button>
        {onCancel ? <Button onClick={onCancel}>Cancel</Button> : null}
      </Box>
    </Box>
  );
}
