//! Search and category filters live in the page URL, so a filtered page can be shared and the back
//! button undoes a filter. The URL uses the search API's own parameter names.

export type SortOrder = 'relevance' | 'price_asc' | 'price_desc' | 'newest';

export interface Filters {
  q: string;
  categories: string[];
  brands: string[];
  priceMin: number | null;
  priceMax: number | null;
  inStock: boolean;
  /** attr.<name> → selected values */
  attributes: Record<string, string[]>;
  sort: SortOrder;
}

const SORTS: readonly SortOrder[] = ['relevance', 'price_asc', 'price_desc', 'newest'];

function minorUnits(value: string | null): number | null {
  if (value === null || value === '') return null;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

export function parseFilters(params: URLSearchParams): Filters {
  const attributes: Record<string, string[]> = {};
  for (const [key, value] of params) {
    if (key.startsWith('attr.') && key.length > 5 && value) {
      const name = key.slice(5);
      (attributes[name] ??= []).push(value);
    }
  }
  const sort = params.get('sort') as SortOrder | null;
  return {
    q: params.get('q') ?? '',
    categories: params.getAll('category').filter(Boolean),
    brands: params.getAll('brand').filter(Boolean),
    priceMin: minorUnits(params.get('price_min')),
    priceMax: minorUnits(params.get('price_max')),
    inStock: params.get('in_stock') === 'true',
    attributes,
    sort: sort && SORTS.includes(sort) ? sort : 'relevance',
  };
}

/** The URL (and search API) parameters of `filters`, in a stable order. */
export function filtersToParams(filters: Filters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  for (const c of filters.categories) params.append('category', c);
  for (const b of filters.brands) params.append('brand', b);
  if (filters.priceMin !== null) params.set('price_min', String(filters.priceMin));
  if (filters.priceMax !== null) params.set('price_max', String(filters.priceMax));
  if (filters.inStock) params.set('in_stock', 'true');
  for (const name of Object.keys(filters.attributes).sort()) {
    for (const v of filters.attributes[name] ?? []) params.append(`attr.${name}`, v);
  }
  if (filters.sort !== 'relevance') params.set('sort', filters.sort);
  return params;
}

/** The search API's query object for `filters` (repeatable parameters as arrays). */
export function filtersToQuery(filters: Filters): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of filtersToParams(filters)) {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  for (const key of ['category', 'brand']) {
    const v = query[key];
    if (typeof v === 'string') query[key] = [v];
  }
  for (const key of Object.keys(query)) {
    const v = query[key];
    if (key.startsWith('attr.') && typeof v === 'string') query[key] = [v];
  }
  return query;
}

function toggle(values: readonly string[], value: string): string[] {
  return values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
}

export function toggleBrand(filters: Filters, brand: string): Filters {
  return { ...filters, brands: toggle(filters.brands, brand) };
}

export function toggleCategory(filters: Filters, category: string): Filters {
  return { ...filters, categories: toggle(filters.categories, category) };
}

export function toggleAttribute(filters: Filters, name: string, value: string): Filters {
  const next = toggle(filters.attributes[name] ?? [], value);
  const attributes = { ...filters.attributes };
  if (next.length === 0) delete attributes[name];
  else attributes[name] = next;
  return { ...filters, attributes };
}

export function withPrice(filters: Filters, priceMin: number | null, priceMax: number | null): Filters {
  return { ...filters, priceMin, priceMax };
}

/** How many filters (not the text or the sort) are active. */
export function activeFilterCount(filters: Filters): number {
  return (
    filters.categories.length +
    filters.brands.length +
    (filters.priceMin !== null || filters.priceMax !== null ? 1 : 0) +
    (filters.inStock ? 1 : 0) +
    Object.values(filters.attributes).reduce((n, v) => n + v.length, 0)
  );
}

export function clearFilters(filters: Filters): Filters {
  return { ...filters, categories: [], brands: [], priceMin: null, priceMax: null, inStock: false, attributes: {} };
}
