import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { lazy, useState } from 'react';
import { createBrowserRouter, RouterProvider, type RouteObject } from 'react-router';
import { catalogApi } from '../api/catalog';
import { AuthProvider } from '../auth/AuthProvider';
import HomePage from '../features/catalog/HomePage';
import { Layout } from './Layout';
import { NotFoundPage } from './NotFoundPage';
import { theme } from './theme';

// Every page but the home page is its own chunk; the admin is loaded only by admins who open it.
const CategoryPage = lazy(() => import('../features/catalog/CategoryPage'));
const ProductPage = lazy(() => import('../features/catalog/ProductPage'));
const SearchPage = lazy(() => import('../features/search/SearchPage'));
const CartPage = lazy(() => import('../features/cart/CartPage'));
const CheckoutPage = lazy(() => import('../features/checkout/CheckoutPage'));
const LoginPage = lazy(() => import('../features/account/LoginPage'));
const RegisterPage = lazy(() => import('../features/account/RegisterPage'));
const ForgotPasswordPage = lazy(() => import('../features/account/ForgotPasswordPage'));
const ResetPasswordPage = lazy(() => import('../features/account/ResetPasswordPage'));
const VerifyEmailPage = lazy(() => import('../features/account/VerifyEmailPage'));
const AccountPage = lazy(() => import('../features/account/AccountPage'));
const OrdersPage = lazy(() => import('../features/account/OrdersPage'));
const OrderPage = lazy(() => import('../features/account/OrderPage'));
const AdminRoutes = lazy(() => import('../features/admin/AdminRoutes'));

/** The route table. Product and category pages start fetching their data while their code loads. */
export function buildRoutes(queryClient: QueryClient): RouteObject[] {
  const prefetch = (key: readonly unknown[], fetcher: () => Promise<unknown>) => {
    void queryClient.prefetchQuery({ queryKey: key, queryFn: fetcher });
    return null;
  };
  return [
    {
      element: <Layout />,
      children: [
        { index: true, element: <HomePage /> },
        {
          path: 'c/:slug',
          element: <CategoryPage />,
          loader: ({ params }) => prefetch(['category', params.slug ?? ''], () => catalogApi.category(params.slug ?? '')),
        },
        {
          path: 'p/:slug',
          element: <ProductPage />,
          loader: ({ params }) => prefetch(['product', params.slug ?? ''], () => catalogApi.productBySlug(params.slug ?? '')),
        },
        { path: 'search', element: <SearchPage /> },
        { path: 'cart', element: <CartPage /> },
        { path: 'checkout', element: <CheckoutPage /> },
        { path: 'login', element: <LoginPage /> },
        { path: 'register', element: <RegisterPage /> },
        { path: 'forgot-password', element: <ForgotPasswordPage /> },
        { path: 'reset-password', element: <ResetPasswordPage /> },
        { path: 'verify-email', element: <VerifyEmailPage /> },
        { path: 'account', element: <AccountPage /> },
        { path: 'account/orders', element: <OrdersPage /> },
        { path: 'account/orders/:id', element: <OrderPage /> },
        { path: 'admin/*', element: <AdminRoutes /> },
        { path: '*', element: <NotFoundPage /> },
      ],
    },
  ];
}

export function App({ queryClient }: { queryClient: QueryClient }) {
  const [router] = useState(() => createBrowserRouter(buildRoutes(queryClient)));
  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      <QueryClientProvider client={queryClient}>
        <AuthProvider>
          <RouterProvider router={router} />
        </AuthProvider>
      </QueryClientProvider>
    </ThemeProvider>
  );
}
