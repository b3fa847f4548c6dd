import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import { useQuery } from '@tanstack/react-query';
import { Link as RouterLink } from 'react-router';
import { searchApi } from '../../api/search';
import { ErrorState } from '../../components/States';
import { ProductCard, ProductCardSkeleton, ProductGrid } from './ProductCard';
import { useCategories } from './useCategories';

function FeaturedCategories() {
  const categories = useCategories();
  const top = (categories.data ?? []).filter((c) => !c.parentId);
  return (
    <Box component="section" aria-labelledby="featured-categories" sx={{ mb: 4 }}>
      <Typography id="featured-categories" variant="h2" sx={{ mb: 2 }}>
        Shop by category
      </Typography>
      {categories.isError ? <ErrorState error={categories.error} onRetry={() => void categories.refetch()} /> : null}
      <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: 'repeat(2, 1fr)', md: 'repeat(4, 1fr)' } }}>
        {categories.isPending
          ? Array.from({ length: 4 }, (_, i) => <Skeleton key={i} variant="rounded" height={96} />)
          : top.map((category) => (
              <Card key={category.id}>
                <CardActionArea component={RouterLink} to={`/c/${encodeURIComponent(category.slug)}`} sx={{ p: 2.5, minHeight: 96 }}>
                  <Typography variant="h3" component="h3">
                    {category.name}
                  </Typography>
                  <Typography variant="body2" color="text.secondary">
                    {(categories.data ?? []).filter((c) => c.parentId === category.id).map((c) => c.name).join(' · ')}
                  </Typography>
                </CardActionArea>
              </Card>
            ))}
      </Box>
    </Box>
  );
}

function NewProducts() {
  // The search index answers "newest first" with exactly what a card shows, faster than the catalog.
  const products = useQuery({
    queryKey: ['search', 'newest'],
    queryFn: ({ signal }) => searchApi.search({ sort: 'newest', limit: 12 }, signal),
  });
  return (
    <Box component="section" aria-labelledby="new-products">
      <Typography id="new-products" variant="h2" sx={{ mb: 2 }}>
        New in
      </Typography>
      {products.isError ? <ErrorState error={products.error} onRetry={() => void products.refetch()} /> : null}
      <ProductGrid>
        {products.isPending
          ? Array.from({ length: 8 }, (_, i) => (
              <li key={i}>
                <ProductCardSkeleton />
              </li>
            ))
          : (products.data?.items ?? []).map((hit, index) => (
              <li key={hit.id}>
                <ProductCard
                  eager={index < 4}
                  product={{
                    id: hit.id,
                    slug: hit.slug ?? hit.id,
                    title: hit.title ?? '',
                    brand: hit.brand,
                    price: hit.price,
                    image: hit.image,
                    inStock: hit.inStock,
                  }}
                />
              </li>
            ))}
      </ProductGrid>
    </Box>
  );
}

export default function HomePage() {
  return (
    <>
      <Box
        component="section"
        sx={{
          mb: 4,
          p: { xs: 3, md: 5 },
          borderRadius: 3,
          color: '#fff',
          background: 'linear-gradient(120deg, #1d4e89 0%, #2f6fb3 60%, #b8401f 140%)',
        }}
      >
        <Typography variant="h1" sx={{ mb: 1 }}>
          Good things, well made
        </Typography>
        <Typography sx={{ maxWidth: 560, opacity: 0.95 }}>
          Clothing, home, outdoors and books: chosen to last, delivered with care.
        </Typography>
      </Box>
      <FeaturedCategories />
      <NewProducts />
    </>
  );
}
