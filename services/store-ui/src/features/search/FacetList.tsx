//! The facet filters beside search and category results: each value with its count, several values per
//! facet (disjunctive, as the search service counts them), and a price range.

import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useState, type FormEvent } from 'react';
import type { FacetValue, Facets } from '../../api/types';
import {
  activeFilterCount,
  clearFilters,
  toggleAttribute,
  toggleBrand,
  toggleCategory,
  withPrice,
  type Filters,
} from '../../lib/filters';
import { formatMoney, parseMajor, toMajorText } from '../../lib/money';

interface Props {
  facets: Facets;
  filters: Filters;
  onChange: (next: Filters) => void;
  currency: string;
  categoryNames: Map<string, string>;
  /** Category facet hidden on a category page (the page is the category). */
  showCategories?: boolean;
}

function FacetGroup({ title, values, selected, onToggle, label }: {
  title: string;
  values: FacetValue[];
  selected: string[];
  onToggle: (value: string) => void;
  label?: (value: string) => string;
}) {
  // A selected value with no results any more still shows, so it can be unticked.
  const shown = [...values];
  for (const value of selected) {
    if (!shown.some((v) => v.value === value)) shown.push({ value, count: 0, selected: true });
  }
  if (shown.length === 0) return null;
  const id = `facet-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <Box component="fieldset" sx={{ border: 0, p: 0, m: 0, mb: 2 }} aria-labelledby={id}>
      <Typography id={id} component="legend" variant="subtitle2" sx={{ fontWeight: 700, mb: 0.5 }}>
        {title}
      </Typography>
      <FormGroup>
        {shown.map((v) => (
          <FormControlLabel
            key={v.value}
            sx={{ my: -0.25 }}
            control={<Checkbox size="small" checked={selected.includes(v.value)} onChange={() => onToggle(v.value)} />}
            label={
              <Typography variant="body2">
                {label ? label(v.value) : v.value}{' '}
                <Box component="span" sx={{ color: 'text.secondary' }}>
                  ({v.count})
                </Box>
              </Typography>
            }
          />
        ))}
      </FormGroup>
    </Box>
  );
}

function PriceRange({ filters, onChange, currency, buckets }: {
  filters: Filters;
  onChange: (next: Filters) => void;
  currency: string;
  buckets: Facets['price'];
}) {
  const [min, setMin] = useState('');
  const [max, setMax] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setMin(filters.priceMin === null ? '' : toMajorText(filters.priceMin, currency));
    setMax(filters.priceMax === null ? '' : toMajorText(filters.priceMax, currency));
  }, [filters.priceMin, filters.priceMax, currency]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const lo = min.trim() === '' ? null : parseMajor(min, currency);
    const hi = max.trim() === '' ? null : parseMajor(max, currency);
    if ((min.trim() !== '' && lo === null) || (max.trim() !== '' && hi === null)) {
      setError('Enter prices like 19.99');
      return;
    }
    if (lo !== null && hi !== null && lo > hi) {
      setError('The lowest price is above the highest');
      return;
    }
    setError(null);
    onChange(withPrice(filters, lo, hi));
  };

  const label = (from: number | null | undefined, to: number | null | undefined) => {
    if (from == null && to != null) return `Under ${formatMoney({ amount: to, currency })}`;
    if (from != null && to == null) return `${formatMoney({ amount: from, currency })} and up`;
    return `${formatMoney({ amount: from ?? 0, currency })} – ${formatMoney({ amount: to ?? 0, currency })}`;
  };

  return (
    <Box component="fieldset" sx={{ border: 0, p: 0, m: 0, mb: 2 }}>
      <Typography component="legend" variant="subtitle2" sx={{ fontWeight: 700, mb: 0.5 }}>
        Price
      </Typography>
      <FormGroup>
        {buckets.map((b) => {
          const checked = filters.priceMin === (b.from ?? null) && filters.priceMax === (b.to ?? null);
          return (
            <FormControlLabel
              key={b.key}
              sx={{ my: -0.25 }}
              control={
                <Checkbox
                  size="small"
                  checked={checked}
                  onChange={() => onChange(checked ? withPrice(filters, null, null) : withPrice(filters, b.from ?? null, b.to ?? null))}
                />
              }
              label={
                <Typography variant="body2">
                  {label(b.from, b.to)}{' '}
                  <Box component="span" sx={{ color: 'text.secondary' }}>
                    ({b.count})
                  </Box>
                </Typography>
              }
            />
          );
        })}
      </FormGroup>
      <Box component="form" onSubmit={apply} sx={{ display: 'flex', gap: 1, mt: 1, alignItems: 'flex-start' }} noValidate>
        <TextField label="Min" value={min} onChange={(e) => setMin(e.target.value)} slotProps={{ htmlInput: { inputMode: 'decimal' } }} />
        <TextField label="Max" value={max} onChange={(e) => setMax(e.target.value)} slotProps={{ htmlInput: { inputMode: 'decimal' } }} />
        <Button type="submit" variant="outlined" sx={{ flexShrink: 0 }}>
          Go
        </Button>
      </Box>
      {error ? (
        <Typography variant="caption" color="error" role="alert">
          {error}
        </Typography>
      ) : null}
    </Box>
  );
}

export function FacetList({ facets, filters, onChange, currency, categoryNames, showCategories = true }: Props) {
  const inStockCount = facets.inStock.find((v) => v.value === 'true')?.count ?? 0;
  return (
    <Box component="aside" aria-label="Filters">
      {activeFilterCount(filters) > 0 ? (
        <Button size="small" onClick={() => onChange(clearFilters(filters))} sx={{ mb: 1 }}>
          Clear all filters
        </Button>
      ) : null}
      <FormControlLabel
        sx={{ mb: 1 }}
        control={<Switch checked={filters.inStock} onChange={() => onChange({ ...filters, inStock: !filters.inStock })} />}
        label={`In stock only (${inStockCount})`}
      />
      {showCategories ? (
        <FacetGroup
          title="Category"
          values={facets.category}
          selected={filters.categories}
          onToggle={(v) => onChange(toggleCategory(filters, v))}
          label={(id) => categoryNames.get(id) ?? id}
        />
      ) : null}
      <FacetGroup title="Brand" values={facets.brand} selected={filters.brands} onToggle={(v) => onChange(toggleBrand(filters, v))} />
      <PriceRange filters={filters} onChange={onChange} currency={currency} buckets={facets.price} />
      {Object.keys(facets.attributes)
        .sort()
        .map((name) => (
          <FacetGroup
            key={name}
            title={name.charAt(0).toUpperCase() + name.slice(1)}
            values={facets.attributes[name] ?? []}
            selected={filters.attributes[name] ?? []}
            onToggle={(v) => onChange(toggleAttribute(filters, name, v))}
          />
        ))}
    </Box>
  );
}
