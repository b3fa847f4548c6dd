import Box from '@mui/material/Box';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import Typography from '@mui/material/Typography';
import { Link as RouterLink, Route, Routes, useLocation } from 'react-router';
import { RequireAuth } from '../../app/RequireAuth';
import { NotFoundPage } from '../../app/NotFoundPage';
import { CategoriesAdmin } from './CategoriesAdmin';
import { Dashboard } from './Dashboard';
import { OrdersAdmin } from './OrdersAdmin';
import { ProductEditor } from './ProductEditor';
import { ProductsAdmin } from './ProductsAdmin';
import { PromotionsAdmin } from './PromotionsAdmin';
import { ShippingTaxAdmin } from './ShippingTaxAdmin';
import { StockAdmin } from './StockAdmin';
import { WebhooksAdmin } from './webhooks/WebhooksAdmin';

const SECTIONS = [
  { path: '/admin', label: 'Dashboard' },
  { path: '/admin/products', label: 'Products' },
  { path: '/admin/categories', label: 'Categories' },
  { path: '/admin/stock', label: 'Stock' },
  { path: '/admin/orders', label: 'Orders' },
  { path: '/admin/promotions', label: 'Promotions' },
  { path: '/admin/shipping', label: 'Shipping & tax' },
  { path: '/admin/webhooks', label: 'Webhooks' },
];

function AdminNav() {
  const { pathname } = useLocation();
  const current = [...SECTIONS].reverse().find((s) => pathname === s.path || pathname.startsWith(`${s.path}/`))?.path ?? '/admin';
  return (
    <Tabs value={current} variant="scrollable" allowScrollButtonsMobile aria-label="Admin sections" sx={{ mb: 3, borderBottom: 1, borderColor: 'divider' }}>
      {SECTIONS.map((s) => (
        <Tab key={s.path} value={s.path} label={s.label} component={RouterLink} to={s.path} />
      ))}
    </Tabs>
  );
}

/** The admin area: loaded only when an admin opens it. */
export default function AdminRoutes() {
  return (
    <RequireAuth admin>
      <Box>
        <Typography variant="overline" color="text.secondary">
          Store admin
        </Typography>
        <AdminNav />
        <Routes>
          <Route index element={<Dashboard />} />
          <Route path="products" element={<ProductsAdmin />} />
          <Route path="products/new" element={<ProductEditor />} />
          <Route path="products/:id" element={<ProductEditor />} />
          <Route path="categories" element={<CategoriesAdmin />} />
          <Route path="stock" element={<StockAdmin />} />
          <Route path="orders" element={<OrdersAdmin />} />
          <Route path="promotions" element={<PromotionsAdmin />} />
          <Route path="shipping" element={<ShippingTaxAdmin />} />
          <Route path="webhooks" element={<WebhooksAdmin />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </Box>
    </RequireAuth>
  );
}
