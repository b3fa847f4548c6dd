import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import CircularProgress from '@mui/material/CircularProgress';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router';
import { describeError } from '../../api/problem';
import { usersApi } from '../../api/users';
import { INVALID_LINK_MESSAGE, isInvalidLink } from './recoveryLink';

type Outcome = { state: 'verifying' } | { state: 'verified' } | { state: 'failed'; error: unknown };

export default function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<Outcome>({ state: 'verifying' });
  // A link works once: the token is posted once per page, even when effects run twice (strict mode).
  const posted = useRef<string | null>(null);

  useEffect(() => {
    if (token === '' || posted.current === token) return;
    posted.current = token;
    usersApi.verifyEmail(token).then(
      () => {
        setOutcome({ state: 'verified' });
        void queryClient.invalidateQueries({ queryKey: ['me'] });
      },
      (error: unknown) => setOutcome({ state: 'failed', error }),
    );
  }, [token, queryClient]);

  let body;
  if (token === '' || (outcome.state === 'failed' && isInvalidLink(outcome.error))) {
    body = (
      <Alert severity="error" role="alert">
        {INVALID_LINK_MESSAGE} Signed in, you can ask for a new one on{' '}
        <Link component={RouterLink} to="/account">
          your account page
        </Link>
        .
      </Alert>
    );
  } else if (outcome.state === 'failed') {
    body = (
      <Alert severity="error" role="alert">
        {describeError(outcome.error)}
      </Alert>
    );
  } else if (outcome.state === 'verified') {
    body = (
      <Alert severity="success" role="status">
        Your email address is verified. Thank you!{' '}
        <Link component={RouterLink} to="/">
          Continue shopping
        </Link>
      </Alert>
    );
  } else {
    body = (
      <Box role="status" sx={{ display: 'flex', alignItems: 'center', gap: 2 }}>
        <CircularProgress size={24} aria-label="Verifying" />
        <Typography>Verifying your email address…</Typography>
      </Box>
    );
  }

  return (
    <Box sx={{ maxWidth: 480, mx: 'auto' }}>
      <Card>
        <CardContent sx={{ p: 3 }}>
          <Typography variant="h1" sx={{ mb: 2 }}>
            Verify your email
          </Typography>
          {body}
        </CardContent>
      </Card>
    </Box>
  );
}
