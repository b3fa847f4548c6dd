//! The discount code the shopper applied, shared by the cart and checkout pages and kept across
//! reloads (localStorage). The server decides whether it still applies on every quote.

import { useSyncExternalStore } from 'react';

const KEY = 'storefront.discountCode';
const listeners = new Set<() => void>();
let memory: string | null = null;

function read(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return memory;
  }
}

export function setDiscountCode(code: string | null): void {
  const value = code === null ? null : code.trim().toUpperCase() || null;
  memory = value;
  try {
    if (value === null) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, value);
  } catch {
    // storage disabled: the code lives in memory for this tab
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useDiscountCode(): string | null {
  return useSyncExternalStore(subscribe, read, () => null);
}
