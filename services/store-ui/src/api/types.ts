//! The services' types as the UI uses them, all generated from the users, catalog, search and cart
//! OpenAPI documents (`npm run api:generate`, checked by `npm run api:check`).

import type { components as CatalogComponents, operations as CatalogOperations } from './generated/catalog';
import type { components as SearchComponents, operations as SearchOperations } from './generated/search';
import type { components as UsersComponents } from './generated/users';
import type { components as CartComponents } from './generated/cart';

type Catalog = CatalogComponents['schemas'];
type CatalogLowStock = CatalogOperations['low_stock']['responses'][200]['content']['application/json'];
type Search = SearchComponents['schemas'];
type Users = UsersComponents['schemas'];
type Cart_ = CartComponents['schemas'];

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
export type MailAccepted = Users['MailAccepted'];
export type ResetPassword = Users['ResetPassword'];

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

// --- cart ---

export type CartLine = Cart_['CartLineView'];
export type Cart = Cart_['CartView'];
export type OrderStatus = Cart_['OrderStatus'];
export type OrderLine = Cart_['OrderLine'];
export type Order = Cart_['Order'];
export type OrdersSummary = Cart_['Summary'];
export type Refund = Cart_['Refund'];
export type WebhookEndpoint = Cart_['Endpoint'];
export type WebhookEndpointList = Cart_['EndpointList'];
export type WebhookDelivery = Cart_['Delivery'];

// --- pricing (cart service) ---

export type Quote = Cart_['Quote'];
export type PricedOrder = Cart_['PricedOrder'];
export type PricedLine = Cart_['PricedLine'];
export type ShippingOption = Cart_['ShippingOption'];
export type ShippingAddress = Cart_['ShippingAddress'];
export type PricingChoices = Cart_['PricingChoices'];
export type SalePrices = Cart_['SalePrices'];
export type SalePrice = Cart_['SalePrice'];
export type DiscountValue = Cart_['DiscountValue'];
export type Target = Cart_['Target'];
export type TaxSettings = Cart_['TaxSettings'];
export type TaxRate = Cart_['TaxRate'];
export type ShippingZone = Cart_['Zone'];
export type ShippingZoneInput = Cart_['ZoneInput'];
export type ShippingMethod = Cart_['ShippingMethod'];
export type ShippingRate = Cart_['ShippingRate'];
export type Promotion = Cart_['PromotionView'];
export type PromotionInput = Cart_['PromotionInput'];
export type DiscountCode = Cart_['DiscountCodeView'];
export type DiscountCodeInput = Cart_['DiscountCodeInput'];

export type LowStockItem = CatalogLowStock['items'][number];
