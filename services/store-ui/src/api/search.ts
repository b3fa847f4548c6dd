//! The search service: full-text search with facets, and suggestions.

import { request, type Query } from './http';
import type { SearchPage, SearchParams, Suggestions } from './types';

export const searchApi = {
  search: (params: SearchParams & Record<string, unknown>, signal?: AbortSignal) =>
    request<SearchPage>('/api/search', { query: params as Query, signal }),
  suggest: (q: string, signal?: AbortSignal) => request<Suggestions>('/api/search/suggest', { query: { q }, signal }),
};
