//! Choosing a variant by its attributes (size, colour, …) on the product page.

import type { Variant } from '../../api/types';

/** Attribute names and the values variants offer, in first-seen order. */
export function attributeOptions(variants: Variant[]): { name: string; values: string[] }[] {
  const options = new Map<string, string[]>();
  for (const variant of variants) {
    for (const [name, value] of Object.entries(variant.attributes ?? {})) {
      const values = options.get(name) ?? [];
      if (!values.includes(value)) values.push(value);
      options.set(name, values);
    }
  }
  return [...options].map(([name, values]) => ({ name, values }));
}

/** The variant matching every chosen attribute, if exactly one does. */
export function matchVariant(variants: Variant[], chosen: Record<string, string>): Variant | undefined {
  const matches = variants.filter((v) => Object.entries(chosen).every(([name, value]) => v.attributes?.[name] === value));
  return matches.length === 1 ? matches[0] : undefined;
}

/** Whether picking `value` for `name` (keeping the other choices) leads to a variant at all. */
export function isCombinationOffered(variants: Variant[], chosen: Record<string, string>, name: string, value: string): boolean {
  const wanted = { ...chosen, [name]: value };
  return variants.some((v) => Object.entries(wanted).every(([n, val]) => v.attributes?.[n] === val));
}

/** The first variant in stock (else the first), as the page's initial choice. */
export function initialVariant(variants: Variant[]): Variant | undefined {
  return variants.find((v) => v.inStock) ?? variants[0];
}
