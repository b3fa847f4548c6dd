import Breadcrumbs from '@mui/material/Breadcrumbs';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useQuery } from '@tanstack/react-query';
import { Link as RouterLink, useParams } from 'react-router';
import { catalogApi } from '../../api/catalog';
import { EmptyState, ErrorState, isNotFound } from '../../components/States';
import { SearchResults } from '../search/SearchResults';
import { useCategories } from './useCategories';

export default function CategoryPage() {
  const { slug = '' } = useParams();
  const category = useQuery({ queryKey: ['category', slug], queryFn: ({ signal }) => catalogApi.category(slug, signal) });
  const all = useCategories();
  if (category.isPending) return <Skeleton variant="text" width={240} height={48} />;
  if (category.isError) {
    return isNotFound(category.error) ? (
      <EmptyState title="No such category" action={<Link component={RouterLink} to="/">Back to the shop</Link>} />
    ) : (
      <ErrorState error={category.error} onRetry={() => void category.refetch()} />
    );
  }
  const c = category.data;
  const byId = new Map((all.data ?? []).map((x) => [x.id, x]));
  const children = (all.data ?? []).filter((x) => x.parentId === c.id);
  return (
    <>
      <Breadcrumbs aria-label="Breadcrumb" sx={{ mb: 1 }}>
        <Link component={RouterLink} to="/" underline="hover" color="inherit">
          Home
        </Link>
        {c.path.map((id) => {
          const a = byId.get(id);
          return a ? (
            <Link key={id} component={RouterLink} to={`/c/${a.slug}`} underline="hover" color="inherit">
              {a.name}
            </Link>
          ) : null;
        })}
        <Typography color="text.primary">{c.name}</Typography>
      </Breadcrumbs>
      {children.length > 0 ? (
        <Stack direction="row" spacing={1} sx={{ mb: 2, flexWrap: 'wrap', rowGap: 1 }}>
          {children.map((child) => (
            <Chip key={child.id} label={child.name} component={RouterLink} to={`/c/${child.slug}`} clickable variant="outlined" />
          ))}
        </Stack>
      ) : null}
      <SearchResults key={c.id} title={c.name} fixedCategory={c.id} />
    </>
  );
}
