//! What a product is: the document served to shoppers and stored in MongoDB, and the input an
//! admin sends, with its validation.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use storefront_kit::FieldError;
use utoipa::ToSchema;

use crate::error::Error;
use crate::ids::{CategoryId, Sku, validate_slug};
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    #[default]
    Draft,
    Active,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }
}

/// A product as served and as stored (MongoDB adds only `_id` and `sortPrice`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub brand: Option<String>,
    pub status: ProductStatus,
    pub category_ids: Vec<String>,
    pub variants: Vec<Variant>,
    #[serde(default)]
    pub images: Vec<ProductImage>,
    /// The lowest variant price.
    pub price_from: Money,
    /// Whether any variant can be bought now (refreshed from the ledger; the ledger decides at checkout).
    pub in_stock: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub sku: String,
    pub title: Option<String>,
    pub price: Money,
    /// Such as `size` and `colour`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub in_stock: bool,
    /// Shipping weight in grams, for weight-based shipping rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductImage {
    pub id: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
    pub urls: ImageUrls,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageUrls {
    pub original: String,
    pub medium: String,
    pub thumbnail: String,
}

/// What an admin sends to create or replace a product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductInput {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub status: ProductStatus,
    #[serde(default)]
    pub category_ids: Vec<String>,
    pub variants: Vec<VariantInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantInput {
    pub sku: String,
    #[serde(default)]
    pub title: Option<String>,
    pub price: Money,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Units on hand; sets the ledger's count when given (never below what is reserved).
    #[serde(default)]
    pub stock: Option<i64>,
    /// Shipping weight in grams (1–1000000), for weight-based shipping rates.
    #[serde(default)]
    pub weight_grams: Option<i64>,
}

pub const MAX_VARIANTS: usize = 100;
pub const MAX_CATEGORIES: usize = 20;
/// One tonne: more is a typing mistake, not a parcel.
pub const MAX_WEIGHT_GRAMS: i64 = 1_000_000;
const MAX_ATTRIBUTES: usize = 20;

/// Attribute names become document keys: no `$`, no `.`, nothing a query could mistake for an operator.
fn valid_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn length(errors: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize) {
    let n = value.chars().count();
    if n < min || n > max {
        errors.push(FieldError::new(
            field,
            format!("must be between {min} and {max} characters long"),
        ));
    }
}

impl ProductInput {
    /// Checks every rule and reports every broken one, or returns the parsed ids.
    pub fn validate(&self) -> Result<(Vec<CategoryId>, Vec<Sku>), Error> {
        let mut errors = Vec::new();
        if let Err(message) = validate_slug(&self.slug) {
            errors.push(FieldError::new("slug", message));
        }
        length(&mut errors, "title", self.title.trim(), 1, 200);
        length(&mut errors, "description", &self.description, 0, 10_000);
        if let Some(brand) = &self.brand {
            length(&mut errors, "brand", brand.trim(), 1, 100);
        }
        let mut categories = Vec::new();
        if self.category_ids.len() > MAX_CATEGORIES {
            errors.push(FieldError::new(
                "categoryIds",
                format!("at most {MAX_CATEGORIES}"),
            ));
        }
        for (i, id) in self.category_ids.iter().enumerate() {
            match CategoryId::parse(id) {
                Ok(id) if !categories.contains(&id) => categories.push(id),
                Ok(_) => errors.push(FieldError::new(
                    format!("categoryIds[{i}]"),
                    "is listed twice",
                )),
                Err(_) => errors.push(FieldError::new(
                    format!("categoryIds[{i}]"),
                    "is not a category id",
                )),
            }
        }
        if self.variants.is_empty() || self.variants.len() > MAX_VARIANTS {
            errors.push(FieldError::new(
                "variants",
                format!("must have 1 to {MAX_VARIANTS} variants"),
            ));
        }
        let mut skus = Vec::new();
        let mut seen = HashSet::new();
        let currency = self.variants.first().map(|v| v.price.currency);
        for (i, variant) in self.variants.iter().enumerate() {
            let field = |name: &str| format!("variants[{i}].{name}");
            match Sku::validate(&variant.sku) {
                Ok(sku) if seen.insert(sku.clone()) => skus.push(sku),
                Ok(_) => errors.push(FieldError::new(field("sku"), "is used by another variant")),
                Err(message) => errors.push(FieldError::new(field("sku"), message)),
            }
            if let Some(title) = &variant.title {
                length(&mut errors, &field("title"), title.trim(), 1, 200);
            }
            if !crate::money::is_valid_price(&variant.price) {
                errors.push(FieldError::new(
                    field("price.amount"),
                    "must be between 0 and 100000000000 minor units",
                ));
            }
            if Some(variant.price.currency) != currency {
                errors.push(FieldError::new(
                    field("price.currency"),
                    "all variants must share one currency",
                ));
            }
            if variant.attributes.len() > MAX_ATTRIBUTES {
                errors.push(FieldError::new(
                    field("attributes"),
                    format!("at most {MAX_ATTRIBUTES}"),
                ));
            }
            for (name, value) in &variant.attributes {
                if !valid_attribute_name(name) {
                    errors.push(FieldError::new(
                        field(&format!("attributes.{name}")),
                        "names are 1–32 lowercase letters, digits, '_' or '-', starting with a letter",
                    ));
                }
                length(
                    &mut errors,
                    &field(&format!("attributes.{name}")),
                    value,
                    1,
                    100,
                );
            }
            if variant
                .weight_grams
                .is_some_and(|g| !(1..=MAX_WEIGHT_GRAMS).contains(&g))
            {
                errors.push(FieldError::new(
                    field("weightGrams"),
                    format!("must be between 1 and {MAX_WEIGHT_GRAMS}"),
                ));
            }
            if variant
                .stock
                .is_some_and(|s| !(0..=1_000_000_000).contains(&s))
            {
                errors.push(FieldError::new(
                    field("stock"),
                    "must be between 0 and 1000000000",
                ));
            }
        }
        if errors.is_empty() {
            Ok((categories, skus))
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProductInput {
        serde_json::from_value(serde_json::json!({
            "slug": "red-tee",
            "title": "Red tee",
            "variants": [{"sku": "TEE-RED-M", "price": {"amount": 1999, "currency": "EUR"}, "attributes": {"size": "M"}}]
        }))
        .unwrap()
    }

    #[test]
    fn a_weight_must_be_positive_and_at_most_a_tonne() {
        let mut product = input();
        product.variants[0].weight_grams = Some(0);
        let Err(Error::Invalid(errors)) = product.validate() else {
            panic!("a zero weight passed");
        };
        assert_eq!(errors[0].field, "variants[0].weightGrams");
        product.variants[0].weight_grams = Some(MAX_WEIGHT_GRAMS + 1);
        assert!(product.validate().is_err());
        product.variants[0].weight_grams = Some(350);
        assert!(product.validate().is_ok());
    }

    #[test]
    fn a_good_product_passes() {
        let (categories, skus) = input().validate().unwrap();
        assert!(categories.is_empty());
        assert_eq!(skus[0].as_str(), "TEE-RED-M");
    }

    #[test]
    fn every_broken_rule_is_reported_by_field() {
        let mut bad = input();
        bad.slug = "Red Tee".into();
        bad.title = " ".into();
        bad.variants[0].price.amount = -5;
        bad.variants[0]
            .attributes
            .insert("$where".into(), "1".into());
        bad.variants.push(bad.variants[0].clone());
        let Err(Error::Invalid(errors)) = bad.validate() else {
            panic!("invalid")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "slug",
            "title",
            "variants[0].price.amount",
            "variants[0].attributes.$where",
            "variants[1].sku",
        ] {
            assert!(fields.contains(&expected), "{expected} in {fields:?}");
        }
    }
}
