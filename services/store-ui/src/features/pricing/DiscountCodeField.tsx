import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import TextField from '@mui/material/TextField';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { cartApi } from '../../api/cart';
import { describeError } from '../../api/problem';
import type { PricingChoices } from '../../api/types';
import { setDiscountCode, useDiscountCode } from './discountCode';
import { isCodeRefused } from './useQuote';

/** Enter a code: the server checks it against this cart before it is kept. */
export function DiscountCodeField({ choices = {} }: { choices?: PricingChoices }) {
  const applied = useDiscountCode();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const check = useMutation({
    mutationFn: (code: string) => cartApi.quote({ ...choices, discountCode: code }),
    onSuccess: (_quote, code) => {
      setDiscountCode(code);
      setText('');
      setError(null);
    },
    onError: (failure) => {
      setError(isCodeRefused(failure) ? `This code ${failure.fieldErrors.find((e) => e.field === 'discountCode')?.message ?? 'cannot be used'}.` : describeError(failure));
    },
  });
  if (applied) {
    return (
      <Box sx={{ my: 1 }}>
        <Chip label={`Code ${applied}`} color="success" onDelete={() => setDiscountCode(null)} data-testid="applied-code" />
      </Box>
    );
  }
  const submit = () => {
    const code = text.trim();
    if (code === '') {
      setError('Enter a code');
      return;
    }
    check.mutate(code);
  };
  return (
    <Box
      component="form"
      sx={{ display: 'flex', gap: 1, alignItems: 'flex-start', my: 1 }}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <TextField
        size="small"
        label="Discount code"
        value={text}
        onChange={(e) => setText(e.target.value)}
        error={error !== null}
        helperText={error ?? ' '}
        slotProps={{ htmlInput: { 'data-testid': 'discount-code', autoCapitalize: 'characters' } }}
      />
      <Button type="submit" variant="outlined" disabled={check.isPending} data-testid="apply-code">
        Apply
      </Button>
    </Box>
  );
}
