import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import Skeleton from '@mui/material/Skeleton';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link as RouterLink } from 'react-router';
import { ApiError, describeError, fieldErrorMap } from '../../api/problem';
import type { Address, AddressInput, User } from '../../api/types';
import { usersApi } from '../../api/users';
import { RequireAuth } from '../../app/RequireAuth';
import * as session from '../../auth/session';
import { ErrorState } from '../../components/States';
import { AddressForm, addressToInput } from './AddressForm';

function Profile({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(user.name);
  const save = useMutation({
    mutationFn: () => usersApi.updateMe(name.trim(), user.version),
    onSuccess: (updated) => queryClient.setQueryData(['me'], updated),
  });
  return (
    <Box component="form" onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }} sx={{ display: 'grid', gap: 2, maxWidth: 420 }}>
      <TextField label="Email" value={user.email} disabled />
      <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" error={!!fieldErrorMap(save.error).name} helperText={fieldErrorMap(save.error).name} />
      {save.isError && !fieldErrorMap(save.error).name ? <Alert severity="error">{describeError(save.error)}</Alert> : null}
      {save.isSuccess ? <Alert severity="success">Saved.</Alert> : null}
      <Box>
        <Button type="submit" variant="contained" disabled={save.isPending || name.trim() === user.name}>
          Save
        </Button>
      </Box>
    </Box>
  );
}

/** Shown while the address has not been confirmed through a mailed link. */
function VerifyNotice() {
  const queryClient = useQueryClient();
  const resend = useMutation({
    mutationFn: () => usersApi.resendVerification(),
    onError: (error) => {
      // Verified meanwhile (e.g. in another tab): the account says so on the next read.
      if (error instanceof ApiError && error.status === 409) void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  return (
    <Alert
      severity="warning"
      data-testid="verify-notice"
      sx={{ mb: 2 }}
      action={
        <Button color="inherit" size="small" onClick={() => resend.mutate()} disabled={resend.isPending || resend.isSuccess}>
          Resend verification email
        </Button>
      }
    >
      Your email address is not verified yet: follow the link in the mail we sent you.
      {resend.isSuccess ? <Box role="status">A new link is on its way.</Box> : null}
      {resend.isError ? <Box role="alert">{describeError(resend.error)}</Box> : null}
    </Alert>
  );
}

function PasswordChange() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const change = useMutation({
    mutationFn: () => usersApi.changePassword(current, next),
    onSuccess: (pair) => {
      session.accept(pair);
      setCurrent('');
      setNext('');
    },
  });
  const fields = fieldErrorMap(change.error);
  return (
    <Box component="form" onSubmit={(e: FormEvent) => { e.preventDefault(); change.mutate(); }} sx={{ display: 'grid', gap: 2, maxWidth: 420 }}>
      <TextField label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} error={!!fields.currentPassword} helperText={fields.currentPassword} />
      <TextField label="New password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} error={!!fields.newPassword} helperText={fields.newPassword ?? '8 to 128 characters'} />
      {change.isError && Object.keys(fields).length === 0 ? <Alert severity="error">{describeError(change.error)}</Alert> : null}
      {change.isSuccess ? <Alert severity="success">Password changed. Other devices are signed out.</Alert> : null}
      <Box>
        <Button type="submit" variant="outlined" disabled={change.isPending || !current || next.length < 8}>
          Change password
        </Button>
      </Box>
    </Box>
  );
}

function AddressCard({ address }: { address: Address }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const replace = useMutation({
    mutationFn: (input: AddressInput) => usersApi.replaceAddress(address.id, input),
    onSuccess: async () => {
      setEditing(false);
      await queryClient.invalidateQueries({ queryKey: ['addresses'] });
    },
  });
  const remove = useMutation({
    mutationFn: () => usersApi.deleteAddress(address.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['addresses'] }),
  });
  return (
    <Card component="li">
      <CardContent>
        {editing ? (
          <AddressForm initial={addressToInput(address)} submitLabel="Save address" busy={replace.isPending} serverError={replace.error} onSubmit={(i) => replace.mutate(i)} onCancel={() => setEditing(false)} />
        ) : (
          <>
            {address.label ? <Typography sx={{ fontWeight: 700 }}>{address.label}</Typography> : null}
            <Typography>{address.fullName}</Typography>
            <Typography color="text.secondary">
              {[address.line1, address.line2, `${address.postalCode} ${address.city}`, address.region, address.country].filter(Boolean).join(', ')}
            </Typography>
            <Box sx={{ mt: 1, display: 'flex', gap: 1 }}>
              <Button size="small" onClick={() => setEditing(true)}>Edit</Button>
              <Button size="small" color="error" onClick={() => remove.mutate()} disabled={remove.isPending}>Delete</Button>
            </Box>
          </>
        )}
        {replace.isError || remove.isError ? <ErrorState error={replace.error ?? remove.error} /> : null}
      </CardContent>
    </Card>
  );
}

function Addresses() {
  const queryClient = useQueryClient();
  const addresses = useQuery({ queryKey: ['addresses'], queryFn: ({ signal }) => usersApi.addresses(signal) });
  const [adding, setAdding] = useState(false);
  const create = useMutation({
    mutationFn: (input: AddressInput) => usersApi.createAddress(input),
    onSuccess: async () => {
      setAdding(false);
      await queryClient.invalidateQueries({ queryKey: ['addresses'] });
    },
  });
  if (addresses.isPending) return <Skeleton variant="rounded" height={120} />;
  if (addresses.isError) return <ErrorState error={addresses.error} onRetry={() => void addresses.refetch()} />;
  return (
    <Box>
      {addresses.data.items.length === 0 && !adding ? <Typography color="text.secondary" sx={{ mb: 1 }}>No saved addresses yet.</Typography> : null}
      <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 1.5, gridTemplateColumns: { xs: '1fr', md: '1fr 1fr' } }}>
        {addresses.data.items.map((a) => <AddressCard key={a.id} address={a} />)}
      </Box>
      {adding ? (
        <Card sx={{ mt: 2 }}>
          <CardContent>
            <AddressForm submitLabel="Add address" busy={create.isPending} serverError={create.error} onSubmit={(i) => create.mutate(i)} onCancel={() => setAdding(false)} />
            {create.isError ? <ErrorState error={create.error} /> : null}
          </CardContent>
        </Card>
      ) : (
        <Button sx={{ mt: 2 }} variant="outlined" onClick={() => setAdding(true)}>Add an address</Button>
      )}
    </Box>
  );
}

function Account() {
  const me = useQuery({ queryKey: ['me'], queryFn: ({ signal }) => usersApi.me(signal) });
  return (
    <Box sx={{ display: 'grid', gap: 3 }}>
      <Box sx={{ display: 'flex', alignItems: 'baseline', gap: 2, flexWrap: 'wrap' }}>
        <Typography variant="h1" sx={{ flex: 1 }}>Your account</Typography>
        <Link component={RouterLink} to="/account/orders">Your orders</Link>
      </Box>
      <Card component="section" aria-labelledby="profile">
        <CardContent>
          <Typography id="profile" variant="h2" sx={{ mb: 2 }}>Profile</Typography>
          {me.isPending ? <Skeleton variant="rounded" height={120} /> : me.isError ? <ErrorState error={me.error} onRetry={() => void me.refetch()} /> : (
            <>
              {me.data.emailVerified ? null : <VerifyNotice />}
              <Profile key={me.data.id} user={me.data} />
            </>
          )}
        </CardContent>
      </Card>
      <Card component="section" aria-labelledby="addresses">
        <CardContent>
          <Typography id="addresses" variant="h2" sx={{ mb: 2 }}>Addresses</Typography>
          <Addresses />
        </CardContent>
      </Card>
      <Card component="section" aria-labelledby="password">
        <CardContent>
          <Typography id="password" variant="h2" sx={{ mb: 2 }}>Password</Typography>
          <PasswordChange />
        </CardContent>
      </Card>
    </Box>
  );
}

export default function AccountPage() {
  return (
    <RequireAuth>
      <Account />
    </RequireAuth>
  );
}
