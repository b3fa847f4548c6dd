//! Loading, empty and error states shared by every page.

import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import { ApiError, describeError } from '../api/problem';

export function ErrorState({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const fields = error instanceof ApiError ? error.fieldErrors : [];
  return (
    <Alert
      severity="error"
      role="alert"
      action={
        onRetry ? (
          <Button color="inherit" size="small" onClick={onRetry}>
            Try again
          </Button>
        ) : undefined
      }
      sx={{ my: 2 }}
    >
      {title ? <strong>{title}: </strong> : null}
      {describeError(error)}
      {fields.length > 0 ? (
        <Box component="ul" sx={{ m: 0, pl: 2 }}>
          {fields.map((f) => (
            <li key={`${f.field}:${f.message}`}>
              {f.field}: {f.message}
            </li>
          ))}
        </Box>
      ) : null}
    </Alert>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <Box sx={{ textAlign: 'center', py: 8, px: 2 }} role="status">
      <Typography variant="h3" component="p" gutterBottom>
        {title}
      </Typography>
      {children ? (
        <Typography color="text.secondary" sx={{ mb: 2 }}>
          {children}
        </Typography>
      ) : null}
      {action}
    </Box>
  );
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}
