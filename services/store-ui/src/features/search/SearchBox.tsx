//! The header's search field: suggestions as you type (products and categories), Enter searches.
//! Keyboard: arrows move through suggestions, Enter opens one or searches the text, Escape closes.

import Autocomplete from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import InputAdornment from '@mui/material/InputAdornment';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { searchApi } from '../../api/search';
import { SearchIcon } from '../../components/icons';

type Option =
  | { kind: 'product'; id: string; slug: string; title: string; image: string | null }
  | { kind: 'category'; name: string };

function useDebounced(value: string, ms: number): string {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export default function SearchBox({ initialText = '', autoFocus = false }: { initialText?: string; autoFocus?: boolean }) {
  const navigate = useNavigate();
  const location = useLocation();
  const [text, setText] = useState(() => initialText || (new URLSearchParams(location.search).get('q') ?? ''));
  const debounced = useDebounced(text.trim(), 120);

  useEffect(() => {
    if (location.pathname === '/search') setText(new URLSearchParams(location.search).get('q') ?? '');
  }, [location.pathname, location.search]);

  const suggestions = useQuery({
    queryKey: ['suggest', debounced],
    enabled: debounced.length >= 2,
    queryFn: ({ signal }) => searchApi.suggest(debounced, signal),
    staleTime: 60_000,
  });

  const options: Option[] =
    debounced.length >= 2 && suggestions.data
      ? [
          ...suggestions.data.products
            .filter((p) => p.slug && p.title)
            .map((p): Option => ({ kind: 'product', id: p.id, slug: p.slug ?? '', title: p.title ?? '', image: p.image ?? null })),
          ...suggestions.data.categories.map((name): Option => ({ kind: 'category', name })),
        ]
      : [];

  const search = (q: string) => {
    const query = q.trim();
    if (query) void navigate(`/search?q=${encodeURIComponent(query)}`);
  };

  return (
    <Autocomplete<Option, false, false, true>
      freeSolo
      fullWidth
      options={options}
      filterOptions={(x) => x}
      inputValue={text}
      onInputChange={(_, value) => setText(value)}
      loading={suggestions.isFetching}
      groupBy={(o) => (o.kind === 'product' ? 'Products' : 'Categories')}
      getOptionLabel={(o) => (typeof o === 'string' ? o : o.kind === 'product' ? o.title : o.name)}
      isOptionEqualToValue={(a, b) => JSON.stringify(a) === JSON.stringify(b)}
      onChange={(_, value) => {
        if (value === null) return;
        if (typeof value === 'string') search(value);
        else if (value.kind === 'product') void navigate(`/p/${encodeURIComponent(value.slug)}`);
        else search(value.name);
      }}
      renderOption={(props, option) => {
        const { key, ...rest } = props as typeof props & { key: string };
        return (
          <Box component="li" key={key} {...rest} sx={{ display: 'flex', gap: 1.5, alignItems: 'center' }}>
            {option.kind === 'product' && option.image ? (
              <img src={option.image} alt="" width={32} height={32} style={{ borderRadius: 4, objectFit: 'cover' }} />
            ) : null}
            <Typography variant="body2">{option.kind === 'product' ? option.title : option.name}</Typography>
          </Box>
        );
      }}
      renderInput={(params) => (
        <TextField
          {...params}
          placeholder="Search products"
          autoFocus={autoFocus}
          onKeyDown={(event) => {
            // Enter with no suggestion highlighted searches the typed text.
            if (event.key === 'Enter' && !document.querySelector('.MuiAutocomplete-option.Mui-focused')) {
              (event as typeof event & { defaultMuiPrevented?: boolean }).defaultMuiPrevented = true;
              event.preventDefault();
              search(text);
            }
          }}
          slotProps={{
            ...params.slotProps,
            input: {
              ...params.slotProps.input,
              type: 'search',
              startAdornment: (
                <InputAdornment position="start">
                  <SearchIcon fontSize="small" />
                </InputAdornment>
              ),
            },
            htmlInput: { ...params.slotProps.htmlInput, 'aria-label': 'Search products', 'data-testid': 'search-input' },
          }}
          sx={{ '& .MuiOutlinedInput-root': { bgcolor: 'background.paper' } }}
        />
      )}
    />
  );
}
