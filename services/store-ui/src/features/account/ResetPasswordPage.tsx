import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type FormEvent } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router';
import { describeError, fieldErrorMap } from '../../api/problem';
import { usersApi } from '../../api/users';
import { INVALID_LINK_MESSAGE, isInvalidLink } from './recoveryLink';

function InvalidLink() {
  return (
    <Alert severity="error" role="alert">
      {INVALID_LINK_MESSAGE}{' '}
      <Link component={RouterLink} to="/forgot-password">
        Ask for a new link
      </Link>
    </Alert>
  );
}

export default function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const fields = fieldErrorMap(error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    setBusy(true);
    setError(null);
    try {
      await usersApi.resetPassword(token, password);
      setDone(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  let body;
  if (done) {
    body = (
      <Alert severity="success" role="status">
        Your password has been changed and every device was signed out.{' '}
        <Link component={RouterLink} to="/login">
          Sign in
        </Link>{' '}
        with the new one.
      </Alert>
    );
  } else if (token === '' || isInvalidLink(error)) {
    body = <InvalidLink />;
  } else {
    body = (
      <Box component="form" onSubmit={(e) => void submit(e)} sx={{ display: 'grid', gap: 2 }} noValidate>
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          name="newPassword"
          error={!!fields.newPassword}
          helperText={fields.newPassword ?? '8 to 128 characters; a passphrase is best.'}
        />
        <TextField
          label="Confirm new password"
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          name="confirmPassword"
          error={mismatch}
          helperText={mismatch ? 'The two passwords are not the same.' : undefined}
        />
        {error && Object.keys(fields).length === 0 ? (
          <Alert severity="error" role="alert">
            {describeError(error)}
          </Alert>
        ) : null}
        <Button type="submit" variant="contained" size="large" disabled={busy}>
          {busy ? 'Saving…' : 'Set new password'}
        </Button>
      </Box>
    );
  }

  return (
    <Box sx={{ maxWidth: 420, mx: 'auto' }}>
      <Card>
        <CardContent sx={{ p: 3 }}>
          <Typography variant="h1" sx={{ mb: 2 }}>
            Set a new password
          </Typography>
          {body}
        </CardContent>
      </Card>
    </Box>
  );
}
