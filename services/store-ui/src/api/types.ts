//! The services' types as the UI uses them: generated from the users, catalog and search OpenAPI
//! documents (`npm run api:generate`, checked by `npm run api:check`), plus cart and the admin dashboard
//! endpoints, written by hand from their READMEs until the cart service publishes an OpenAPI document.

import type { components as CatalogComponents } from './generated/catalog';
import type { components as SearchComponents, operations as SearchOperations } from './generated/search';
import type { components as UsersComponents } from './generated/users';
import type { Money } from '../lib/money';
import type { FieldError } from './problem';

type Catalog = CatalogComponents['schemas'];
type Search = SearchComponents['schemas'];
type Users = UsersComponents['schemas'];

export type Product = Catalog['Product'];
export type ProductInput = Catalog['ProductInput'];
export type ProductStatus = Catalog['ProductStatus'];
export type ProductImage = Catalog['ProductImage'];
export type Variant = Catalog['Variant'];
export type VariantInput = Catalog['VariantInput'];
export type Category = Catalog['Category'];
export type CategoryInput = Catalog['CategoryInput'];
export type SkuView = Catalog['SkuView'];
export type StockLevel = Catalog['StockLevel'];

export type SearchPage = Search['SearchPage'];
export type SearchHit = Search['Hit'];
export type Facets = Search['Facets'];
export type FacetValue = Search['FacetValue'];
export type PriceBucket = Search['PriceBucket'];
export type Suggestions = Search['Suggestions'];
export type SearchParams = NonNullable<SearchOperations[keyof SearchOperations]['parameters']['query']>;

export type User = Users['User'];
export type Address = Users['Address'];
export type AddressInput = Users['AddressInput'];
export type TokenPair = Users['TokenPair'];
export type Registration = Users['Registration'];

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

// --- cart (services/cart/README.md) ---

export interface CartLine {
  sku: string;
  quantity: number;
  purchasable: boolean;
  title?: string;
  variantTitle?: string;
  image?: string;
  unitPrice?: Money;
  lineTotal?: Money;
  available: number;
  inStock: boolean;
}

export interface Cart {
  id?: string;
  lines: CartLine[];
  itemCount: number;
  subtotal?: Money;
}

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'FAILED' | 'SHIPPED' | 'CANCELLED';

export interface OrderLine {
  sku: string;
  title: string;
  variantTitle?: string | null;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
}

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  lines: OrderLine[];
  total: Money;
  failure?: { reason: string; detail?: string | null; errors?: FieldError[] };
  version: number;
  createdAt: string;
  updatedAt: string;
}

// --- admin dashboard (contracts agreed with cart and catalog) ---

export interface OrdersSummary {
  since: string;
  orders: number;
  cancelled: number;
  revenue: Money[];
}

export interface LowStockItem {
  sku: string;
  productId: string;
  title: string;
  onHand: number;
  reserved: number;
  available: number;
}
