import Button from '@mui/material/Button';
import { Link as RouterLink } from 'react-router';
import { EmptyState } from '../components/States';

export function NotFoundPage() {
  return (
    <EmptyState
      title="Page not found"
      action={
        <Button variant="contained" component={RouterLink} to="/">
          Back to the shop
        </Button>
      }
    >
      The page you asked for does not exist.
    </EmptyState>
  );
}
