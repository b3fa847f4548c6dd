//! Identifiers checked once at the edge: SKUs, orders, guest carts and idempotency keys.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A stock-keeping unit as the catalog spells it: 1–64 of `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub const RULE: &'static str = "must be 1–64 letters, digits, '-', '_' or '.'";

    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let ok = !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(Self::RULE)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> Self {
        sku.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An order: a UUIDv7, so ids sort by creation time (the cursor of order lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(Uuid);

impl OrderId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn parse(value: &str) -> Option<Self> {
        Uuid::parse_str(value).ok().map(Self)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for OrderId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A guest cart: 128 random bits as 32 lower-case hex digits. Knowing it is what grants access,
/// so it is never derived from anything guessable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CartId(String);

impl CartId {
    pub fn generate() -> Self {
        Self(Uuid::new_v4().simple().to_string())
    }

    pub fn parse(value: &str) -> Option<Self> {
        let ok = value.len() == 32
            && value
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        ok.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CartId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client's `Idempotency-Key`: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> Option<Self> {
        let ok =
            !value.is_empty() && value.len() <= 255 && value.chars().all(|c| c.is_ascii_graphic());
        ok.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_follow_the_catalog_rule() {
        assert!(Sku::parse("MUG-RED_1.2").is_ok());
        for bad in ["", "a b", "x/y", "ü", &"a".repeat(65)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Sku>("\"a b\"").is_err());
    }

    #[test]
    fn cart_ids_are_exactly_what_we_mint() {
        let id = CartId::generate();
        assert_eq!(CartId::parse(id.as_str()), Some(id));
        assert_eq!(CartId::parse("ABCDEF0123456789abcdef0123456789"), None);
        assert_eq!(CartId::parse("short"), None);
    }

    #[test]
    fn order_ids_sort_by_creation() {
        let first = OrderId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = OrderId::generate();
        assert!(first < second);
        assert!(first.to_string() < second.to_string());
    }

    #[test]
    fn idempotency_keys_are_bounded_visible_ascii() {
        assert!(IdempotencyKey::parse("order-2024-01-01T00:00:00Z").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("with space").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_none());
    }
}
