//! Money in integer minor units with an ISO 4217 currency code; arithmetic is checked.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

/// A three-letter ISO 4217 code (upper case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(code: &str) -> Option<Self> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(u8::is_ascii_uppercase)
            .then_some(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters get in (see `parse`).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).ok_or_else(|| {
            serde::de::Error::custom("currency must be a three-letter ISO 4217 code such as EUR")
        })
    }
}

/// `{ "amount": 1999, "currency": "EUR" }`: 19.99 €.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Minor units (cents for EUR).
    pub amount: i64,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// `None` on overflow or when the currencies differ.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency).then_some(())?;
        Some(Money::new(
            self.amount.checked_add(other.amount)?,
            self.currency,
        ))
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        Some(Money::new(
            self.amount.checked_mul(quantity)?,
            self.currency,
        ))
    }

    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }
}

/// The sum of `lines` (unit price × quantity), or `None` on overflow, mixed currencies or no lines.
pub fn total<'a>(lines: impl IntoIterator<Item = (&'a Money, i64)>) -> Option<Money> {
    let mut sum: Option<Money> = None;
    for (price, quantity) in lines {
        let line = price.checked_mul(quantity)?;
        sum = Some(match sum {
            None => line,
            Some(so_far) => so_far.checked_add(line)?,
        });
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_checked() {
        let eur = Money::new(250, Currency::EUR);
        let usd = Money::new(1, Currency::parse("USD").unwrap());
        assert_eq!(
            total([(&eur, 4), (&eur, 1)]),
            Some(Money::new(1250, Currency::EUR))
        );
        assert_eq!(total([(&eur, 1), (&usd, 1)]), None, "mixed currencies");
        assert_eq!(total([(&Money::new(i64::MAX, Currency::EUR), 2)]), None);
        assert_eq!(total(std::iter::empty()), None);
    }

    #[test]
    fn money_serialises_as_amount_and_code() {
        let m = Money::new(1999, Currency::EUR);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"amount":1999,"currency":"EUR"}"#
        );
        let back: Money = serde_json::from_str(r#"{"amount":5,"currency":"USD"}"#).unwrap();
        assert_eq!(back.currency.as_str(), "USD");
        assert!(serde_json::from_str::<Money>(r#"{"amount":5,"currency":"usd"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":5,"currency":"EURO"}"#).is_err());
    }

    #[test]
    fn arithmetic_is_checked() {
        let eur = Money::new(i64::MAX, Currency::EUR);
        assert_eq!(eur.checked_add(Money::new(1, Currency::EUR)), None);
        assert_eq!(
            Money::new(1, Currency::EUR)
                .checked_add(Money::new(1, Currency::parse("USD").unwrap())),
            None
        );
        assert_eq!(
            Money::new(250, Currency::EUR).checked_mul(4),
            Some(Money::new(1000, Currency::EUR))
        );
        assert_eq!(eur.checked_mul(2), None);
    }
}
