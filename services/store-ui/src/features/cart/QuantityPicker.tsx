import Box from '@mui/material/Box';
import IconButton from '@mui/material/IconButton';
import Typography from '@mui/material/Typography';
import { AddIcon, RemoveIcon } from '../../components/icons';

/** − n + with buttons reachable by keyboard; never below `min` or above `max`. */
export function QuantityPicker({ value, onChange, max, min = 1, label, disabled = false }: {
  value: number;
  onChange: (next: number) => void;
  max: number;
  min?: number;
  label: string;
  disabled?: boolean;
}) {
  return (
    <Box role="group" aria-label={label} sx={{ display: 'inline-flex', alignItems: 'center', border: 1, borderColor: 'divider', borderRadius: 2 }}>
      <IconButton size="small" aria-label={`Decrease ${label.toLowerCase()}`} disabled={disabled || value <= min} onClick={() => onChange(value - 1)}>
        <RemoveIcon fontSize="small" />
      </IconButton>
      <Typography component="output" aria-live="polite" sx={{ minWidth: 32, textAlign: 'center', fontWeight: 600 }}>
        {value}
      </Typography>
      <IconButton size="small" aria-label={`Increase ${label.toLowerCase()}`} disabled={disabled || value >= max} onClick={() => onChange(value + 1)}>
        <AddIcon fontSize="small" />
      </IconButton>
    </Box>
  );
}
