//! The rules pricing applies, as admins write them and as the engine reads them.

use serde::{Deserialize, Serialize};
use storefront_kit::FieldError;
use utoipa::ToSchema;

use super::{LineInput, PricingError};
use crate::money::{Currency, Money};

/// How much a promotion or code takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum DiscountValue {
    /// A share of the price, in basis points (1000 = 10 %; 1–10000).
    Percent {
        #[serde(rename = "basisPoints")]
        basis_points: i64,
    },
    /// A fixed amount (per unit for a catalogue promotion, per order for a code).
    Fixed { amount: Money },
}

impl DiscountValue {
    pub fn currency(&self) -> Option<Currency> {
        match self {
            Self::Percent { .. } => None,
            Self::Fixed { amount } => Some(amount.currency),
        }
    }

    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        match self {
            Self::Percent { basis_points } if !(1..=10_000).contains(basis_points) => {
                errors.push(FieldError::new(
                    format!("{field}.basisPoints"),
                    "must be between 1 and 10000",
                ))
            }
            Self::Fixed { amount } if !(1..=100_000_000_000).contains(&amount.amount) => errors
                .push(FieldError::new(
                    format!("{field}.amount.amount"),
                    "must be between 1 and 100000000000 minor units",
                )),
            _ => {}
        }
    }
}

/// What a rule applies to: lines whose SKU, product or one of whose categories is listed.
/// All lists empty means every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    #[serde(default)]
    pub skus: Vec<String>,
    #[serde(default)]
    pub product_ids: Vec<String>,
    #[serde(default)]
    pub category_ids: Vec<String>,
}

pub const MAX_TARGETS: usize = 200;

impl Target {
    pub fn is_everything(&self) -> bool {
        self.skus.is_empty() && self.product_ids.is_empty() && self.category_ids.is_empty()
    }

    pub fn matches(&self, line: &LineInput) -> bool {
        self.is_everything()
            || self.skus.contains(&line.sku)
            || self.product_ids.contains(&line.product_id)
            || line
                .category_ids
                .iter()
                .any(|c| self.category_ids.contains(c))
    }

    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        for (name, list) in [
            ("skus", &self.skus),
            ("productIds", &self.product_ids),
            ("categoryIds", &self.category_ids),
        ] {
            if list.len() > MAX_TARGETS {
                errors.push(FieldError::new(
                    format!("{field}.{name}"),
                    format!("at most {MAX_TARGETS} entries"),
                ));
            }
            for (i, value) in list.iter().enumerate() {
                if value.is_empty() || value.len() > 64 || value.chars().any(char::is_whitespace) {
                    errors.push(FieldError::new(
                        format!("{field}.{name}[{i}]"),
                        "must be 1–64 characters without spaces",
                    ));
                }
            }
        }
    }
}

/// An automatic catalogue promotion, as the engine sees it (active now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub id: String,
    pub name: String,
    pub value: DiscountValue,
    pub target: Target,
}

/// A discount code the shopper entered, valid now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountCode {
    pub code: String,
    pub value: DiscountValue,
    pub target: Target,
    /// The subtotal (after catalogue promotions) the order must reach.
    pub minimum_subtotal: Option<i64>,
}

/// The tax of the shipping country.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaxRule {
    /// 0–10000 (2000 = 20 %).
    pub rate_basis_points: i64,
    pub prices_include_tax: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightTier {
    /// Parcels up to this weight (inclusive) cost `amount`.
    pub up_to_grams: i64,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceTier {
    /// Orders whose goods (after discounts) reach this amount cost `amount`.
    pub from: Money,
    pub amount: Money,
}

/// How a shipping method charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum ShippingRate {
    Flat {
        amount: Money,
    },
    /// Tiers by parcel weight (variants' `weightGrams` × quantity); heavier than every tier
    /// means the method is not offered.
    ByWeight {
        tiers: Vec<WeightTier>,
    },
    /// Tiers by the goods' value after discounts; one tier must start at 0.
    ByPrice {
        tiers: Vec<PriceTier>,
    },
}

/// A way to ship to a zone's countries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingMethod {
    /// Unique within its zone: 1–64 of `[a-z0-9-]`.
    pub id: String,
    pub name: String,
    pub rate: ShippingRate,
    /// Free when the goods (after discounts) reach this amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_over: Option<Money>,
}

const MAX_TIERS: usize = 20;

impl ShippingMethod {
    pub fn currency(&self) -> Currency {
        match &self.rate {
            ShippingRate::Flat { amount } => amount.currency,
            ShippingRate::ByWeight { tiers } => {
                tiers.first().map_or(Currency::EUR, |t| t.amount.currency)
            }
            ShippingRate::ByPrice { tiers } => {
                tiers.first().map_or(Currency::EUR, |t| t.amount.currency)
            }
        }
    }

    /// What shipping costs for goods worth `goods` weighing `grams`.
    pub fn amount_for(&self, goods: i64, grams: i64) -> Result<i64, PricingError> {
        let charge = match &self.rate {
            ShippingRate::Flat { amount } => amount.amount,
            ShippingRate::ByWeight { tiers } => tiers
                .iter()
                .filter(|t| grams <= t.up_to_grams)
                .min_by_key(|t| t.up_to_grams)
                .map(|t| t.amount.amount)
                .ok_or(PricingError::TooHeavy { grams })?,
            ShippingRate::ByPrice { tiers } => tiers
                .iter()
                .filter(|t| goods >= t.from.amount)
                .max_by_key(|t| t.from.amount)
                .or_else(|| tiers.iter().min_by_key(|t| t.from.amount))
                .map_or(0, |t| t.amount.amount),
        };
        if self
            .free_over
            .is_some_and(|threshold| goods >= threshold.amount)
        {
            return Ok(0);
        }
        Ok(charge)
    }

    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        if !valid_slug(&self.id) {
            errors.push(FieldError::new(format!("{field}.id"), SLUG_RULE));
        }
        let name = self.name.trim().chars().count();
        if !(1..=100).contains(&name) {
            errors.push(FieldError::new(
                format!("{field}.name"),
                "must be 1–100 characters",
            ));
        }
        let currency = self.currency();
        let mut amounts: Vec<(String, Money)> = Vec::new();
        match &self.rate {
            ShippingRate::Flat { amount } => {
                amounts.push((format!("{field}.rate.amount"), *amount))
            }
            ShippingRate::ByWeight { tiers } => {
                if tiers.is_empty() || tiers.len() > MAX_TIERS {
                    errors.push(FieldError::new(
                        format!("{field}.rate.tiers"),
                        format!("must have 1 to {MAX_TIERS} tiers"),
                    ));
                }
                for (i, tier) in tiers.iter().enumerate() {
                    if !(1..=1_000_000_000).contains(&tier.up_to_grams) {
                        errors.push(FieldError::new(
                            format!("{field}.rate.tiers[{i}].upToGrams"),
                            "must be between 1 and 1000000000",
                        ));
                    }
                    amounts.push((format!("{field}.rate.tiers[{i}].amount"), tier.amount));
                }
            }
            ShippingRate::ByPrice { tiers } => {
                if tiers.is_empty() || tiers.len() > MAX_TIERS {
                    errors.push(FieldError::new(
                        format!("{field}.rate.tiers"),
                        format!("must have 1 to {MAX_TIERS} tiers"),
                    ));
                }
                if !tiers.iter().any(|t| t.from.amount == 0) {
                    errors.push(FieldError::new(
                        format!("{field}.rate.tiers"),
                        "one tier must start from 0",
                    ));
                }
                for (i, tier) in tiers.iter().enumerate() {
                    amounts.push((format!("{field}.rate.tiers[{i}].from"), tier.from));
                    amounts.push((format!("{field}.rate.tiers[{i}].amount"), tier.amount));
                }
            }
        }
        if let Some(free_over) = self.free_over {
            amounts.push((format!("{field}.freeOver"), free_over));
        }
        for (name, amount) in amounts {
            if !(0..=100_000_000_000).contains(&amount.amount) {
                errors.push(FieldError::new(
                    format!("{name}.amount"),
                    "must be between 0 and 100000000000 minor units",
                ));
            }
            if amount.currency != currency {
                errors.push(FieldError::new(
                    format!("{name}.currency"),
                    "all amounts of a method must share one currency",
                ));
            }
        }
    }
}

pub const SLUG_RULE: &str = "must be 1–64 of lower-case letters, digits and '-'";

/// Ids of rules admins name themselves (promotions, zones, methods).
pub fn valid_slug(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
