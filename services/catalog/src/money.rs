//! Prices: the platform's [`Money`], bounded to what the catalog accepts.

pub use storefront_kit::money::{Currency, Money};

/// The largest price the catalog accepts: 1 billion major units.
pub const MAX_AMOUNT: i64 = 100_000_000_000;

/// A catalog price: not negative and not absurd.
pub fn is_valid_price(price: &Money) -> bool {
    (0..=MAX_AMOUNT).contains(&price.amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_bounded() {
        assert!(is_valid_price(&Money::new(0, Currency::EUR)));
        assert!(is_valid_price(&Money::new(MAX_AMOUNT, Currency::EUR)));
        assert!(!is_valid_price(&Money::new(-1, Currency::EUR)));
        assert!(!is_valid_price(&Money::new(MAX_AMOUNT + 1, Currency::EUR)));
    }
}
