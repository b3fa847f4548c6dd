import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type FormEvent } from 'react';
import { Link as RouterLink, useNavigate, useSearchParams } from 'react-router';
import { describeError, fieldErrorMap } from '../../api/problem';
import { usersApi } from '../../api/users';
import { useAuth } from '../../auth/AuthProvider';
import { safeNext } from './LoginPage';

export default function RegisterPage() {
  const { login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tooShort, setTooShort] = useState(false);
  const fields = fieldErrorMap(error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < 8) {
      setTooShort(true);
      return;
    }
    setTooShort(false);
    setBusy(true);
    setError(null);
    try {
      await usersApi.register({ email: email.trim(), password, name: name.trim() });
      // The service answers the same whether or not the email was new, so signing in tells.
      try {
        await login(email.trim(), password);
        void navigate(next, { replace: true });
      } catch {
        void navigate(`/login?registered=1&email=${encodeURIComponent(email.trim())}&next=${encodeURIComponent(next)}`, { replace: true });
      }
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
            Create an account
          </Typography>
          <Box component="form" onSubmit={(e) => void submit(e)} sx={{ display: 'grid', gap: 2 }} noValidate>
            <TextField label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} name="name" error={!!fields.name} helperText={fields.name} />
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
            <TextField
              label="Password"
              type="password"
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              name="password"
              error={tooShort || !!fields.password}
              helperText={tooShort ? 'At least 8 characters' : (fields.password ?? '8 to 128 characters; a passphrase is best.')}
            />
            {error && Object.keys(fields).length === 0 ? (
              <Alert severity="error" role="alert">
                {describeError(error)}
              </Alert>
            ) : null}
            <Button type="submit" variant="contained" size="large" disabled={busy}>
              {busy ? 'Creating…' : 'Create account'}
            </Button>
          </Box>
          <Typography variant="body2" sx={{ mt: 2 }}>
            Already have an account?{' '}
            <Link component={RouterLink} to={`/login?next=${encodeURIComponent(next)}`}>
              Sign in
            </Link>
          </Typography>
        </CardContent>
      </Card>
    </Box>
  );
}
