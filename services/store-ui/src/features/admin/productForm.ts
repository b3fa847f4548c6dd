//! The product editor's form state and its translation to the catalog's `ProductInput`.

import type { Product, ProductInput, ProductStatus } from '../../api/types';
import { parseMajor, toMajorText } from '../../lib/money';

export interface VariantDraft {
  sku: string;
  title: string;
  price: string;
  currency: string;
  /** "colour: red; size: M" */
  attributes: string;
  /** Units on hand to set; blank leaves an existing variant's stock as it is. */
  stock: string;
  /** Shipping weight in grams; blank: none. */
  weightGrams: string;
}

export interface ProductDraft {
  slug: string;
  title: string;
  description: string;
  brand: string;
  status: ProductStatus;
  categoryIds: string[];
  variants: VariantDraft[];
}

export const emptyVariant = (currency = 'EUR'): VariantDraft => ({ sku: '', title: '', price: '', currency, attributes: '', stock: '', weightGrams: '' });

export const emptyDraft = (): ProductDraft => ({
  slug: '',
  title: '',
  description: '',
  brand: '',
  status: 'active',
  categoryIds: [],
  variants: [emptyVariant()],
});

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100);
}

export function parseAttributes(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const [name, ...rest] = part.split(':');
    const value = rest.join(':').trim();
    if (!name || name.trim() === '' || value === '') return null;
    out[name.trim().toLowerCase()] = value;
  }
  return out;
}

export function formatAttributes(attributes: Record<string, string> | undefined): string {
  return Object.entries(attributes ?? {})
    .map(([n, v]) => `${n}: ${v}`)
    .join('; ');
}

export function draftFromProduct(product: Product): ProductDraft {
  return {
    slug: product.slug,
    title: product.title,
    description: product.description,
    brand: product.brand ?? '',
    status: product.status,
    categoryIds: product.categoryIds,
    variants: product.variants.map((v) => ({
      sku: v.sku,
      title: v.title ?? '',
      price: toMajorText(v.price.amount, v.price.currency),
      currency: v.price.currency,
      attributes: formatAttributes(v.attributes),
      stock: '',
      weightGrams: v.weightGrams ? String(v.weightGrams) : '',
    })),
  };
}

/** Client-side checks; the server's answer still decides (and its field errors are shown too). */
export function validateDraft(draft: ProductDraft): Record<string, string> {
  const errors: Record<string, string> = {};
  if (draft.title.trim() === '') errors.title = 'Required';
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(draft.slug)) errors.slug = 'Lower-case letters, digits and single dashes';
  if (draft.variants.length === 0) errors.variants = 'At least one variant';
  const skus = new Set<string>();
  draft.variants.forEach((v, i) => {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(v.sku)) errors[`variants[${i}].sku`] = '1–64 of letters, digits, . _ -';
    else if (skus.has(v.sku)) errors[`variants[${i}].sku`] = 'Used twice';
    skus.add(v.sku);
    if (!/^[A-Z]{3}$/.test(v.currency)) errors[`variants[${i}].currency`] = 'Three letters, e.g. EUR';
    else if (parseMajor(v.price, v.currency) === null) errors[`variants[${i}].price`] = 'A price like 19.99';
    if (parseAttributes(v.attributes) === null) errors[`variants[${i}].attributes`] = 'Like “colour: red; size: M”';
    if (v.stock.trim() !== '' && !/^\d+$/.test(v.stock.trim())) errors[`variants[${i}].stock`] = 'A whole number';
    if (v.weightGrams.trim() !== '' && !/^[1-9]\d{0,6}$/.test(v.weightGrams.trim())) errors[`variants[${i}].weightGrams`] = 'Grams, 1–1000000';
  });
  return errors;
}

export function draftToInput(draft: ProductDraft): ProductInput {
  return {
    slug: draft.slug,
    title: draft.title.trim(),
    description: draft.description.trim(),
    brand: draft.brand.trim() === '' ? null : draft.brand.trim(),
    status: draft.status,
    categoryIds: draft.categoryIds,
    variants: draft.variants.map((v) => ({
      sku: v.sku,
      title: v.title.trim() === '' ? null : v.title.trim(),
      price: { amount: parseMajor(v.price, v.currency) ?? 0, currency: v.currency },
      attributes: parseAttributes(v.attributes) ?? {},
      ...(v.stock.trim() === '' ? {} : { stock: Number(v.stock.trim()) }),
      ...(v.weightGrams.trim() === '' ? {} : { weightGrams: Number(v.weightGrams.trim()) }),
    })),
  };
}
