/** Money as every service sends it: integer minor units and an ISO 4217 currency code. */
export interface Money {
  amount: number;
  currency: string;
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, locale: string | undefined): Intl.NumberFormat {
  const key = `${locale ?? ''}|${currency}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formatters.set(key, found);
  }
  return found;
}

/** How many minor units make one major unit of `currency` (EUR: 2, JPY: 0, BHD: 3). */
export function minorDigits(currency: string): number {
  return formatter(currency, 'en').resolvedOptions().maximumFractionDigits ?? 2;
}

/** Minor units → a display string in the shopper's locale, e.g. 1999 EUR → "€19.99". */
export function formatMoney(money: Money, locale?: string): string {
  const digits = minorDigits(money.currency);
  return formatter(money.currency, locale).format(money.amount / 10 ** digits);
}

/** A major-unit amount typed by a person ("19.99") → minor units, or null when it is not a price. */
export function parseMajor(text: string, currency: string): number | null {
  const trimmed = text.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return null;
  const digits = minorDigits(currency);
  const [whole = '0', fraction = ''] = trimmed.split('.');
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}

/** Minor units → the major-unit text an input shows ("19.99"). */
export function toMajorText(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  return (amount / 10 ** digits).toFixed(digits);
}
