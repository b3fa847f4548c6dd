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

/** The same words whether or not an account uses the address: the page must not tell. */
export const FORGOT_CONFIRMATION = "If an account exists for that address, we've sent a link.";

export default function ForgotPasswordPage() {
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const fields = fieldErrorMap(error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await usersApi.forgotPassword(email.trim());
      setSent(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box sx={{ maxWidth: 420, mx: 'auto' }}>
      <Card>
        <CardContent sx={{ p: 3 }}>
          <Typography variant="h1" sx={{ mb: 2 }}>
            Forgot your password?
          </Typography>
          {sent ? (
            <Alert severity="success" role="status">
              {FORGOT_CONFIRMATION} It works for a limited time; check your spam folder if it does not arrive.
            </Alert>
          ) : (
            <Box component="form" onSubmit={(e) => void submit(e)} sx={{ display: 'grid', gap: 2 }}>
              <Typography color="text.secondary">Enter the address you signed up with and we will mail you a link to set a new password.</Typography>
              <TextField
                label="Email"
                type="email"
                autoComplete="email"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                name="email"
                error={!!fields.email}
                helperText={fields.email}
              />
              {error && !fields.email ? (
                <Alert severity="error" role="alert">
                  {describeError(error)}
                </Alert>
              ) : null}
              <Button type="submit" variant="contained" size="large" disabled={busy}>
                {busy ? 'Sending…' : 'Send the link'}
              </Button>
            </Box>
          )}
          <Typography variant="body2" sx={{ mt: 2 }}>
            Remembered it?{' '}
            <Link component={RouterLink} to="/login">
              Sign in
            </Link>
          </Typography>
        </CardContent>
      </Card>
    </Box>
  );
}
