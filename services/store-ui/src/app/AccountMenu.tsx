import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import { useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthProvider';

/** The signed-in menu, loaded on first open. */
export default function AccountMenu({ anchor, onClose }: { anchor: HTMLElement | null; onClose: () => void }) {
  const { isAdmin, logout } = useAuth();
  const navigate = useNavigate();
  const go = (path: string) => {
    onClose();
    void navigate(path);
  };
  return (
    <Menu anchorEl={anchor} open={anchor !== null} onClose={onClose}>
      <MenuItem onClick={() => go('/account')}>Profile and addresses</MenuItem>
      <MenuItem onClick={() => go('/account/orders')}>Orders</MenuItem>
      {isAdmin ? <MenuItem onClick={() => go('/admin')}>Admin</MenuItem> : null}
      <MenuItem
        onClick={() => {
          onClose();
          void logout().then(() => navigate('/'));
        }}
      >
        Sign out
      </MenuItem>
    </Menu>
  );
}
