import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import { Link as RouterLink } from 'react-router';
import { Price } from '../../components/Price';
import type { Money } from '../../lib/money';

export interface CardProduct {
  id: string;
  slug: string;
  title: string;
  brand?: string | null;
  price?: Money | null;
  image?: string | null;
  inStock: boolean;
}

export function ProductCard({ product, eager = false }: { product: CardProduct; eager?: boolean }) {
  return (
    <Card sx={{ height: '100%' }} data-testid="product-card">
      <CardActionArea component={RouterLink} to={`/p/${encodeURIComponent(product.slug)}`} sx={{ height: '100%', display: 'flex', flexDirection: 'column', alignItems: 'stretch' }}>
        <Box sx={{ position: 'relative', aspectRatio: '1 / 1', bgcolor: 'grey.100' }}>
          {product.image ? (
            <img
              src={product.image}
              alt=""
              width={200}
              height={200}
              loading={eager ? 'eager' : 'lazy'}
              fetchPriority={eager ? 'high' : 'auto'}
              style={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block' }}
            />
          ) : null}
          {!product.inStock ? (
            <Chip label="Out of stock" size="small" sx={{ position: 'absolute', top: 8, left: 8, bgcolor: 'grey.800', color: '#fff' }} />
          ) : null}
        </Box>
        <CardContent sx={{ flex: 1 }}>
          {product.brand ? (
            <Typography variant="caption" color="text.secondary" component="p">
              {product.brand}
            </Typography>
          ) : null}
          <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600, lineHeight: 1.3 }}>
            {product.title}
          </Typography>
          <Typography variant="body1" sx={{ mt: 0.5, fontWeight: 700 }}>
            <Price money={product.price} />
          </Typography>
        </CardContent>
      </CardActionArea>
    </Card>
  );
}

export function ProductCardSkeleton() {
  return (
    <Card sx={{ height: '100%' }} aria-hidden>
      <Skeleton variant="rectangular" sx={{ aspectRatio: '1 / 1', height: 'auto' }} />
      <CardContent>
        <Skeleton width="40%" />
        <Skeleton width="80%" />
        <Skeleton width="30%" />
      </CardContent>
    </Card>
  );
}

/** Responsive grid: 2 columns on phones up to 4 on desktop. */
export function ProductGrid({ children }: { children: React.ReactNode }) {
  return (
    <Box
      component="ul"
      sx={{
        listStyle: 'none',
        p: 0,
        m: 0,
        display: 'grid',
        gap: { xs: 1.5, sm: 2 },
        gridTemplateColumns: { xs: 'repeat(2, minmax(0, 1fr))', sm: 'repeat(3, minmax(0, 1fr))', md: 'repeat(4, minmax(0, 1fr))' },
        '& > li': { minWidth: 0 },
      }}
    >
      {children}
    </Box>
  );
}
