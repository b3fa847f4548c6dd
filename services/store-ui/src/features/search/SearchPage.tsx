import { useSearchParams } from 'react-router';
import { SearchResults } from './SearchResults';

export default function SearchPage() {
  const [params] = useSearchParams();
  const q = params.get('q') ?? '';
  return <SearchResults title={q ? `Results for “${q}”` : 'All products'} />;
}
