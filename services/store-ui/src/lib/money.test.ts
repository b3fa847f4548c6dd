import { describe, expect, it } from 'vitest';
import { formatMoney, minorDigits, parseMajor, toMajorText } from './money';

describe('money', () => {
  it('formats minor units by the currency’s own digits', () => {
    expect(formatMoney({ amount: 1999, currency: 'EUR' }, 'en-IE')).toBe('€19.99');
    expect(formatMoney({ amount: 1999, currency: 'JPY' }, 'en-US')).toBe('¥1,999');
    expect(formatMoney({ amount: 123456, currency: 'USD' }, 'en-US')).toBe('$1,234.56');
    expect(formatMoney({ amount: 1500, currency: 'BHD' }, 'en-US')).toContain('1.500');
  });

  it('formats in the shopper’s locale', () => {
    expect(formatMoney({ amount: 123456, currency: 'EUR' }, 'de-DE')).toBe('1.234,56\u00a0€');
  });

  it('knows minor digits per currency', () => {
    expect(minorDigits('EUR')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
  });

  it('parses typed prices into minor units and refuses what is not a price', () => {
    expect(parseMajor('19.99', 'EUR')).toBe(1999);
    expect(parseMajor('19,9', 'EUR')).toBe(1990);
    expect(parseMajor(' 20 ', 'EUR')).toBe(2000);
    expect(parseMajor('1999', 'JPY')).toBe(1999);
    expect(parseMajor('1.999', 'EUR')).toBeNull();
    expect(parseMajor('-1', 'EUR')).toBeNull();
    expect(parseMajor('abc', 'EUR')).toBeNull();
    expect(parseMajor('', 'EUR')).toBeNull();
  });

  it('round-trips minor units through the input text', () => {
    for (const amount of [0, 1, 99, 100, 1999, 250000]) {
      expect(parseMajor(toMajorText(amount, 'EUR'), 'EUR')).toBe(amount);
    }
  });
});
