import AppBar from '@mui/material/AppBar';
import Badge from '@mui/material/Badge';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Container from '@mui/material/Container';
import IconButton from '@mui/material/IconButton';
import LinearProgress from '@mui/material/LinearProgress';
import Link from '@mui/material/Link';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import { lazy, Suspense, useState } from 'react';
import { Outlet, Link as RouterLink } from 'react-router';
import { useAuth } from '../auth/AuthProvider';
import { CartIcon, PersonIcon } from '../components/icons';
import { useCart } from '../features/cart/useCart';
import { HeaderSearch } from '../features/search/HeaderSearch';

const AccountMenuPopup = lazy(() => import('./AccountMenu'));

function CartButton() {
  const cart = useCart();
  const count = cart.data?.itemCount ?? 0;
  return (
    <IconButton component={RouterLink} to="/cart" color="inherit" aria-label={`Cart, ${count} items`} data-testid="cart-button">
      <Badge badgeContent={count} color="secondary" max={99}>
        <CartIcon />
      </Badge>
    </IconButton>
  );
}

function AccountMenu() {
  const { user } = useAuth();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [opened, setOpened] = useState(false);
  if (!user) {
    return (
      <Button component={RouterLink} to="/login" color="inherit" startIcon={<PersonIcon />}>
        Sign in
      </Button>
    );
  }
  return (
    <>
      <IconButton
        color="inherit"
        aria-label="Account"
        aria-haspopup="menu"
        onClick={(e) => {
          setOpened(true);
          setAnchor(e.currentTarget);
        }}
        data-testid="account-button"
      >
        <PersonIcon />
      </IconButton>
      {opened ? (
        <Suspense fallback={null}>
          <AccountMenuPopup anchor={anchor} onClose={() => setAnchor(null)} />
        </Suspense>
      ) : null}
    </>
  );
}

export function Layout() {
  return (
    <Box sx={{ minHeight: '100vh', display: 'flex', flexDirection: 'column' }}>
      <Link href="#main" sx={{ position: 'absolute', left: -9999, '&:focus': { left: 8, top: 8, zIndex: 2000, bgcolor: 'background.paper', p: 1 } }}>
        Skip to content
      </Link>
      <AppBar position="sticky" elevation={0}>
        <Toolbar sx={{ gap: { xs: 1, sm: 2 }, flexWrap: { xs: 'wrap', sm: 'nowrap' }, py: { xs: 1, sm: 0 } }}>
          <Typography
            component={RouterLink}
            to="/"
            variant="h6"
            sx={{ color: 'inherit', textDecoration: 'none', fontWeight: 800, letterSpacing: '-0.02em', flexShrink: 0 }}
          >
            Storefront
          </Typography>
          <Box sx={{ flex: 1, order: { xs: 3, sm: 0 }, minWidth: { xs: '100%', sm: 200 }, maxWidth: { sm: 640 } }}>
            <HeaderSearch />
          </Box>
          <Box sx={{ ml: 'auto', display: 'flex', alignItems: 'center', gap: 0.5 }}>
            <AccountMenu />
            <CartButton />
          </Box>
        </Toolbar>
      </AppBar>
      <Container component="main" id="main" maxWidth="lg" sx={{ flex: 1, py: 3 }}>
        <Suspense fallback={<LinearProgress aria-label="Loading page" />}>
          <Outlet />
        </Suspense>
      </Container>
      <Box component="footer" sx={{ py: 3, textAlign: 'center', color: 'text.secondary', borderTop: 1, borderColor: 'divider' }}>
        <Typography variant="body2">Storefront · prices include VAT · sandbox payments only</Typography>
      </Box>
    </Box>
  );
}
