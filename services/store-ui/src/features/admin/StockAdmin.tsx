import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { catalogApi } from '../../api/catalog';
import { describeError } from '../../api/problem';
import { Price } from '../../components/Price';
import { ErrorState } from '../../components/States';

export function StockAdmin() {
  const [text, setText] = useState('');
  const [sku, setSku] = useState('');
  const [onHand, setOnHand] = useState('');
  const found = useQuery({ queryKey: ['sku', sku], enabled: sku !== '', queryFn: ({ signal }) => catalogApi.sku(sku, signal), retry: false });
  const set = useMutation({
    mutationFn: () => catalogApi.setStock(sku, Number(onHand)),
    onSuccess: () => void found.refetch(),
  });
  const valid = /^\d+$/.test(onHand.trim());
  return (
    <Box sx={{ display: 'grid', gap: 3, maxWidth: 640 }}>
      <Typography variant="h1">Stock</Typography>
      <Card>
        <CardContent>
          <Box component="form" onSubmit={(e: FormEvent) => { e.preventDefault(); setSku(text.trim()); set.reset(); }} sx={{ display: 'flex', gap: 1 }}>
            <TextField label="SKU" value={text} onChange={(e) => setText(e.target.value)} />
            <Button type="submit" variant="outlined">
              Look up
            </Button>
          </Box>
          {found.isError ? <ErrorState error={found.error} /> : null}
          {found.data ? (
            <Box sx={{ mt: 2, display: 'grid', gap: 1.5 }}>
              <Typography sx={{ fontWeight: 600 }}>
                {found.data.title}
                {found.data.variantTitle ? ` (${found.data.variantTitle})` : ''} · <Price money={found.data.price} />
              </Typography>
              <Typography>
                Available to sell now: <strong>{found.data.available}</strong>
              </Typography>
              <Box component="form" onSubmit={(e: FormEvent) => { e.preventDefault(); if (valid) set.mutate(); }} sx={{ display: 'flex', gap: 1 }}>
                <TextField label="Set units on hand" value={onHand} onChange={(e) => setOnHand(e.target.value)} slotProps={{ htmlInput: { inputMode: 'numeric' } }} error={onHand !== '' && !valid} helperText={onHand !== '' && !valid ? 'A whole number' : 'Never below the units reserved by open orders'} />
                <Button type="submit" variant="contained" disabled={!valid || set.isPending}>
                  Save
                </Button>
              </Box>
              {set.isError ? <Alert severity="error">{describeError(set.error)}</Alert> : null}
              {set.isSuccess ? <Alert severity="success">On hand is now {set.data.onHand}{set.data.reserved !== undefined ? ` (${set.data.reserved} reserved)` : ''}.</Alert> : null}
            </Box>
          ) : null}
        </CardContent>
      </Card>
    </Box>
  );
}
