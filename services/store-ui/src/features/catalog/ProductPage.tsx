import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Breadcrumbs from '@mui/material/Breadcrumbs';
import Button from '@mui/material/Button';
import ButtonBase from '@mui/material/ButtonBase';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Skeleton from '@mui/material/Skeleton';
import Snackbar from '@mui/material/Snackbar';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link as RouterLink, useParams } from 'react-router';
import { cartApi } from '../../api/cart';
import { catalogApi } from '../../api/catalog';
import { describeError } from '../../api/problem';
import type { Product } from '../../api/types';
import { Price } from '../../components/Price';
import { EmptyState, ErrorState, isNotFound } from '../../components/States';
import { QuantityPicker } from '../cart/QuantityPicker';
import { SalePrice } from '../pricing/SalePrice';
import { useCartMutation } from '../cart/useCart';
import { useCategories } from './useCategories';
import { attributeOptions, initialVariant, isCombinationOffered, matchVariant } from './variants';

function Gallery({ product }: { product: Product }) {
  const images = product.images ?? [];
  const [index, setIndex] = useState(0);
  const current = images[index] ?? images[0];
  if (!current) {
    return <Box sx={{ aspectRatio: '1 / 1', bgcolor: 'grey.100', borderRadius: 2 }} role="img" aria-label="No image" />;
  }
  return (
    <Box>
      <Box sx={{ aspectRatio: '1 / 1', bgcolor: 'grey.100', borderRadius: 2, overflow: 'hidden' }}>
        <img
          src={current.urls.medium}
          alt={current.alt || product.title}
          width={800}
          height={800}
          fetchPriority="high"
          style={{ width: '100%', height: '100%', objectFit: 'contain', display: 'block' }}
          data-testid="product-image"
        />
      </Box>
      {images.length > 1 ? (
        <Box sx={{ display: 'flex', gap: 1, mt: 1, flexWrap: 'wrap' }} role="list" aria-label="Product images">
          {images.map((image, i) => (
            <ButtonBase
              key={image.id}
              role="listitem"
              onClick={() => setIndex(i)}
              aria-label={`Show image ${i + 1} of ${images.length}`}
              aria-current={i === index}
              sx={{ width: 72, height: 72, borderRadius: 1, overflow: 'hidden', outline: i === index ? '2px solid' : 'none', outlineColor: 'primary.main' }}
            >
              <img src={image.urls.thumbnail} alt="" width={72} height={72} style={{ objectFit: 'cover' }} />
            </ButtonBase>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}

function Purchase({ product }: { product: Product }) {
  const options = attributeOptions(product.variants);
  const [chosen, setChosen] = useState<Record<string, string>>(() => ({ ...(initialVariant(product.variants)?.attributes ?? {}) }));
  const [quantity, setQuantity] = useState(1);
  const [notice, setNotice] = useState<string | null>(null);
  const variant = product.variants.length === 1 ? product.variants[0] : matchVariant(product.variants, chosen);
  const stock = useQuery({
    queryKey: ['sku', variant?.sku],
    enabled: variant !== undefined,
    queryFn: ({ signal }) => catalogApi.sku(variant?.sku ?? '', signal),
    staleTime: 10_000,
  });
  const available = stock.data?.available;
  // Sale prices under the promotions in force (display only: checkout reprices).
  const skus = product.variants.map((v) => v.sku);
  const sale = useQuery({
    queryKey: ['sale-prices', ...skus],
    queryFn: ({ signal }) => cartApi.salePrices(skus, signal),
    staleTime: 30_000,
    retry: false,
  });
  const salePrice = sale.data?.items.find((i) => i.sku === variant?.sku);
  const add = useCartMutation(({ sku, qty }: { sku: string; qty: number }) => cartApi.addLine(sku, qty));

  useEffect(() => setQuantity(1), [variant?.sku]);

  const sold = product.status === 'active';
  const inStock = sold && variant ? (available !== undefined ? available > 0 : variant.inStock) : false;
  return (
    <Box>
      <Typography variant="h4" component="p" sx={{ fontWeight: 700, mb: 2 }} data-testid="product-price">
        {variant && salePrice ? (
          <SalePrice price={salePrice.price} listPrice={salePrice.listPrice} promotion={salePrice.promotion?.name} />
        ) : (
          <Price money={variant?.price ?? product.priceFrom} />
        )}
      </Typography>
      {options.map(({ name, values }) => (
        <Box key={name} sx={{ mb: 2 }}>
          <Typography id={`attr-${name}`} variant="subtitle2" sx={{ mb: 0.5, textTransform: 'capitalize' }}>
            {name}: <strong>{chosen[name] ?? 'choose'}</strong>
          </Typography>
          <ToggleButtonGroup
            exclusive
            size="small"
            value={chosen[name] ?? null}
            aria-labelledby={`attr-${name}`}
            onChange={(_, value: string | null) => {
              if (value !== null) setChosen((c) => ({ ...c, [name]: value }));
            }}
            sx={{ flexWrap: 'wrap' }}
          >
            {values.map((value) => (
              <ToggleButton
                key={value}
                value={value}
                sx={{ textTransform: 'none', px: 2 }}
                disabled={!isCombinationOffered(product.variants, Object.fromEntries(Object.entries(chosen).filter(([n]) => n !== name)), name, value)}
              >
                {value}
              </ToggleButton>
            ))}
          </ToggleButtonGroup>
        </Box>
      ))}
      <Box sx={{ mb: 2 }} role="status" aria-live="polite" data-testid="stock-state">
        {!sold ? (
          <Alert severity="info">This product is no longer sold.</Alert>
        ) : !variant ? (
          <Chip label="Choose an option" />
        ) : inStock ? (
          <Chip color="success" label={available !== undefined && available <= 5 ? `Only ${available} left` : 'In stock'} />
        ) : (
          <Chip color="default" label="Out of stock" />
        )}
      </Box>
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', flexWrap: 'wrap' }}>
        <QuantityPicker value={quantity} max={Math.max(1, Math.min(available ?? 99, 99))} onChange={setQuantity} label="Quantity" />
        <Button
          variant="contained"
          size="large"
          disabled={!variant || !inStock || add.isPending}
          onClick={() => {
            if (!variant) return;
            add.mutate(
              { sku: variant.sku, qty: quantity },
              { onSuccess: () => setNotice(`Added ${quantity} × ${product.title} (${variant.title ?? variant.sku}) to your cart`) },
            );
          }}
          data-testid="add-to-cart"
        >
          {add.isPending ? 'Adding…' : 'Add to cart'}
        </Button>
      </Box>
      {add.isError ? (
        <Alert severity="error" sx={{ mt: 2 }}>
          {describeError(add.error)}
        </Alert>
      ) : null}
      <Snackbar
        open={notice !== null}
        autoHideDuration={4000}
        onClose={() => setNotice(null)}
        message={notice}
        action={
          <Button color="secondary" size="small" component={RouterLink} to="/cart">
            View cart
          </Button>
        }
      />
    </Box>
  );
}

export default function ProductPage() {
  const { slug = '' } = useParams();
  const product = useQuery({ queryKey: ['product', slug], queryFn: ({ signal }) => catalogApi.productBySlug(slug, signal) });
  const categories = useCategories();
  if (product.isPending) {
    return (
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '1fr 1fr' }, gap: 4 }}>
        <Skeleton variant="rounded" sx={{ aspectRatio: '1 / 1', height: 'auto' }} />
        <Box>
          <Skeleton variant="text" height={48} />
          <Skeleton variant="text" width="40%" />
          <Skeleton variant="rounded" height={120} sx={{ mt: 2 }} />
        </Box>
      </Box>
    );
  }
  if (product.isError) {
    return isNotFound(product.error) ? (
      <EmptyState title="This product is not available" action={<Link component={RouterLink} to="/">Back to the shop</Link>} />
    ) : (
      <ErrorState error={product.error} onRetry={() => void product.refetch()} />
    );
  }
  const p = product.data;
  const category = categories.data?.find((c) => c.id === p.categoryIds[p.categoryIds.length - 1]);
  return (
    <>
      <Breadcrumbs aria-label="Breadcrumb" sx={{ mb: 2 }}>
        <Link component={RouterLink} to="/" underline="hover" color="inherit">
          Home
        </Link>
        {category ? (
          <Link component={RouterLink} to={`/c/${category.slug}`} underline="hover" color="inherit">
            {category.name}
          </Link>
        ) : null}
        <Typography color="text.primary">{p.title}</Typography>
      </Breadcrumbs>
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '1fr 1fr' }, gap: { xs: 2, md: 4 } }}>
        <Gallery product={p} />
        <Box>
          {p.brand ? (
            <Typography color="text.secondary" variant="subtitle1">
              {p.brand}
            </Typography>
          ) : null}
          <Typography variant="h1" sx={{ mb: 1 }}>
            {p.title}
          </Typography>
          <Purchase key={p.id} product={p} />
          <Typography sx={{ mt: 3, whiteSpace: 'pre-line' }}>{p.description}</Typography>
        </Box>
      </Box>
    </>
  );
}
