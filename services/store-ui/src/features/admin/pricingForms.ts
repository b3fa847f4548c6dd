//! The pricing admin's form state and its translation to the cart service's rule documents.

import type { DiscountValue, ShippingMethod, ShippingRate, Target } from '../../api/types';
import { type Money, parseMajor, toMajorText } from '../../lib/money';

export type ValueKind = 'percent' | 'fixed';

/** "a, b c" → ["a", "b", "c"]. */
export function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** "12.5" % → 1250 basis points; null when not a percentage in (0, 100]. */
export function parseBasisPoints(text: string): number | null {
  const trimmed = text.trim().replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(trimmed)) return null;
  const points = Math.round(Number(trimmed) * 100);
  return points >= 1 && points <= 10_000 ? points : null;
}

export function valueFromDraft(kind: ValueKind, text: string, currency: string): DiscountValue | null {
  if (kind === 'percent') {
    const basisPoints = parseBasisPoints(text);
    return basisPoints === null ? null : { type: 'percent', basisPoints };
  }
  const amount = parseMajor(text, currency);
  return amount === null || amount <= 0 ? null : { type: 'fixed', amount: { amount, currency } };
}

export function valueToDraft(value: DiscountValue): { kind: ValueKind; text: string; currency: string } {
  if (value.type === 'percent') return { kind: 'percent', text: String(value.basisPoints / 100), currency: 'EUR' };
  return { kind: 'fixed', text: toMajorText(value.amount.amount, value.amount.currency), currency: value.amount.currency };
}

export function describeValue(value: DiscountValue): string {
  if (value.type === 'percent') return `${value.basisPoints / 100} % off`;
  return `${toMajorText(value.amount.amount, value.amount.currency)} ${value.amount.currency} off`;
}

export function targetFromDraft(skus: string, productIds: string, categoryIds: string): Target {
  return { skus: parseList(skus), productIds: parseList(productIds), categoryIds: parseList(categoryIds) };
}

export function describeTarget(target: Target | undefined): string {
  if (!target) return 'everything';
  const parts = [
    target.skus?.length ? `SKUs ${target.skus.join(', ')}` : '',
    target.productIds?.length ? `${target.productIds.length} product(s)` : '',
    target.categoryIds?.length ? `${target.categoryIds.length} categor${target.categoryIds.length === 1 ? 'y' : 'ies'}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'everything';
}

export type RateKind = 'flat' | 'byWeight' | 'byPrice';

/** "1000: 4.90, 5000: 9.90" → tiers; the key is grams (by weight) or a major amount (by price). */
export function parseTiers(kind: 'byWeight' | 'byPrice', text: string, currency: string): ShippingRate | null {
  const pairs = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (pairs.length === 0) return null;
  if (kind === 'byWeight') {
    const tiers: { upToGrams: number; amount: Money }[] = [];
    for (const pair of pairs) {
      const [key = '', value = ''] = pair.split(':').map((s) => s.trim());
      const grams = /^\d+$/.test(key) ? Number(key) : NaN;
      const amount = parseMajor(value, currency);
      if (!Number.isFinite(grams) || grams < 1 || amount === null) return null;
      tiers.push({ upToGrams: grams, amount: { amount, currency } });
    }
    return { type: 'byWeight', tiers };
  }
  const tiers: { from: Money; amount: Money }[] = [];
  for (const pair of pairs) {
    const [key = '', value = ''] = pair.split(':').map((s) => s.trim());
    const from = parseMajor(key, currency);
    const amount = parseMajor(value, currency);
    if (from === null || amount === null) return null;
    tiers.push({ from: { amount: from, currency }, amount: { amount, currency } });
  }
  return { type: 'byPrice', tiers };
}

export function formatTiers(rate: ShippingRate): string {
  if (rate.type === 'byWeight') return rate.tiers.map((t) => `${t.upToGrams}: ${toMajorText(t.amount.amount, t.amount.currency)}`).join(', ');
  if (rate.type === 'byPrice') return rate.tiers.map((t) => `${toMajorText(t.from.amount, t.from.currency)}: ${toMajorText(t.amount.amount, t.amount.currency)}`).join(', ');
  return '';
}

export interface MethodDraft {
  id: string;
  name: string;
  kind: RateKind;
  /** The flat amount, or the tiers text. */
  rate: string;
  freeOver: string;
  currency: string;
}

export function methodToDraft(method: ShippingMethod): MethodDraft {
  const currency = method.rate.type === 'flat' ? method.rate.amount.currency : (method.rate.tiers[0]?.amount.currency ?? 'EUR');
  return {
    id: method.id,
    name: method.name,
    kind: method.rate.type,
    rate: method.rate.type === 'flat' ? toMajorText(method.rate.amount.amount, currency) : formatTiers(method.rate),
    freeOver: method.freeOver ? toMajorText(method.freeOver.amount, currency) : '',
    currency,
  };
}

/** The method, or the name of the first field that is wrong. */
export function methodFromDraft(draft: MethodDraft): ShippingMethod | { error: string } {
  let rate: ShippingRate | null;
  if (draft.kind === 'flat') {
    const amount = parseMajor(draft.rate, draft.currency);
    rate = amount === null ? null : { type: 'flat', amount: { amount, currency: draft.currency } };
  } else {
    rate = parseTiers(draft.kind, draft.rate, draft.currency);
  }
  if (rate === null) return { error: draft.kind === 'flat' ? 'Enter the price, e.g. 4.90' : 'Enter tiers as "key: price", separated by commas' };
  let freeOver: Money | undefined;
  if (draft.freeOver.trim() !== '') {
    const amount = parseMajor(draft.freeOver, draft.currency);
    if (amount === null) return { error: 'Free over must be an amount, e.g. 100' };
    freeOver = { amount, currency: draft.currency };
  }
  return { id: draft.id.trim(), name: draft.name.trim(), rate, ...(freeOver ? { freeOver } : {}) };
}

/** `datetime-local` input text ↔ RFC 3339 UTC. */
export function localToIso(text: string): string | null {
  if (text.trim() === '') return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function isoToLocal(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
