//! The catalog service: products, categories, images, stock.

import { request, type Query } from './http';
import type { Category, CategoryInput, LowStockItem, Page, Product, ProductInput, ProductImage, SkuView, StockLevel } from './types';

const BASE = '/api/catalog';

export interface ProductListQuery {
  category?: string;
  brand?: string;
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
  sort?: 'newest' | 'price_asc' | 'price_desc';
  status?: 'draft' | 'archived';
  cursor?: string;
  limit?: number;
}

export const catalogApi = {
  products: (query: ProductListQuery = {}, signal?: AbortSignal) =>
    request<Page<Product>>(`${BASE}/products`, { query: query as Query, signal }),
  product: (id: string, signal?: AbortSignal) =>
    request<Product>(`${BASE}/products/${encodeURIComponent(id)}`, { signal }),
  productBySlug: (slug: string, signal?: AbortSignal) =>
    request<Product>(`${BASE}/products/by-slug/${encodeURIComponent(slug)}`, { signal }),
  sku: (sku: string, signal?: AbortSignal) => request<SkuView>(`${BASE}/skus/${encodeURIComponent(sku)}`, { signal }),
  categories: async (signal?: AbortSignal): Promise<Category[]> => {
    const all: Category[] = [];
    let cursor: string | undefined;
    do {
      const page = await request<Page<Category>>(`${BASE}/categories`, { query: { limit: 100, cursor }, signal });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  },
  category: (key: string, signal?: AbortSignal) =>
    request<Category>(`${BASE}/categories/${encodeURIComponent(key)}`, { signal }),

  // admin
  createProduct: (input: ProductInput) => request<Product>(`${BASE}/products`, { method: 'POST', body: input }),
  replaceProduct: (id: string, input: ProductInput, version?: number) =>
    request<Product>(`${BASE}/products/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: input,
      headers: version === undefined ? {} : { 'if-match': `"${version}"` },
    }),
  deleteProduct: (id: string, version?: number) =>
    request<void>(`${BASE}/products/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: version === undefined ? {} : { 'if-match': `"${version}"` },
    }),
  uploadImage: (productId: string, file: File, alt: string) => {
    const form = new FormData();
    form.append('file', file);
    if (alt) form.append('alt', alt);
    return request<ProductImage>(`${BASE}/products/${encodeURIComponent(productId)}/images`, { method: 'POST', body: form });
  },
  setStock: (sku: string, onHand: number) =>
    request<StockLevel>(`${BASE}/skus/${encodeURIComponent(sku)}/stock`, { method: 'PUT', body: { onHand } }),
  createCategory: (input: CategoryInput) => request<Category>(`${BASE}/categories`, { method: 'POST', body: input }),
  replaceCategory: (id: string, input: CategoryInput, version?: number) =>
    request<Category>(`${BASE}/categories/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: input,
      headers: version === undefined ? {} : { 'if-match': `"${version}"` },
    }),
  deleteCategory: (id: string, version?: number) =>
    request<void>(`${BASE}/categories/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: version === undefined ? {} : { 'if-match': `"${version}"` },
    }),
  lowStock: (threshold: number, limit: number, signal?: AbortSignal) =>
    request<Page<LowStockItem>>(`${BASE}/admin/low-stock`, { query: { threshold, limit }, signal }),
};

/** The image URL of a size, from an image id. */
export function imageUrl(imageId: string, size: 'thumbnail' | 'medium'): string {
  return `${BASE}/images/${encodeURIComponent(imageId)}/${size}.jpg`;
}
