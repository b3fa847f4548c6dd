//! Money in integer minor units with an ISO 4217 currency code: the platform's shared type.

pub use storefront_kit::money::{Currency, Money, total};
