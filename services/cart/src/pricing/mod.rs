//! Pure pricing: from repriced cart lines and the store's active rules to a priced order, in a
//! fixed order — catalogue promotion → discount code → shipping → tax. No I/O here; the rules
//! are loaded by [`quote`] and the result is stored as the order's snapshot.
//!
//! Every amount is an integer in minor units of one currency. The one rounding rule: any
//! share of an amount (a percentage, tax) is computed exactly and rounded **half up** (away
//! from zero) to a whole minor unit **per line** — per unit for catalogue promotions, per order
//! line for code discounts and tax, and once for shipping; order totals are sums of the rounded
//! line amounts, never re-rounded. A fixed code discount is split over its eligible lines in
//! proportion to their amounts, with the minor units left by rounding down given to the lines
//! with the largest remainders (earlier lines first on ties), so the split adds up exactly.

pub mod quote;
pub mod rules;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::money::{Currency, Money};
pub use rules::{
    DiscountCode, DiscountValue, PriceTier, Promotion, ShippingMethod, ShippingRate, Target,
    TaxRule, WeightTier,
};

/// A cart line as the catalog prices it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    pub sku: String,
    pub product_id: String,
    pub category_ids: Vec<String>,
    pub quantity: i64,
    /// The catalog's unit price, before any promotion.
    pub unit_price: i64,
    pub weight_grams: Option<i64>,
}

/// The rules in force for one order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Automatic promotions active now; the best one per line applies (they never stack).
    pub promotions: Vec<Promotion>,
    pub code: Option<DiscountCode>,
    pub shipping: Option<ShippingMethod>,
    pub tax: TaxRule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("the order must reach {minimum} minor units before discounts for this code")]
    BelowMinimum { minimum: i64 },
    #[error("the code applies to none of the items in the cart")]
    CodeNotApplicable,
    #[error("the code is in {code} but the cart is in {cart}")]
    CodeCurrency { code: Currency, cart: Currency },
    #[error("the shipping method charges in {method} but the cart is in {cart}")]
    ShippingCurrency { method: Currency, cart: Currency },
    #[error("the parcel ({grams} g) is too heavy for this shipping method")]
    TooHeavy { grams: i64 },
    #[error("the order is too large to price")]
    Overflow,
    #[error("there is nothing to price")]
    Empty,
}

/// A promotion as shown on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPromotion {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    pub sku: String,
    pub quantity: i64,
    /// The catalog's unit price.
    pub list_unit_price: Money,
    /// The unit price after the catalogue promotion (the sale price).
    pub unit_price: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<AppliedPromotion>,
    /// `unitPrice × quantity`.
    pub line_amount: Money,
    /// This line's share of the discount code.
    pub discount: Money,
    /// Tax on `lineAmount − discount` (included in it when prices include tax).
    pub tax: Money,
    /// `lineAmount − discount`, what the line costs (plus `tax` when prices exclude tax).
    pub total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricedShipping {
    pub method_id: String,
    pub name: String,
    pub amount: Money,
    pub tax: Money,
}

/// The priced order: the quote shown to the shopper and the snapshot an order keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricedOrder {
    pub currency: String,
    pub lines: Vec<PricedLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<PricedShipping>,
    /// Tax rate in basis points (2000 = 20 %).
    pub tax_rate_basis_points: i64,
    pub prices_include_tax: bool,
    /// Σ `lineAmount` (after catalogue promotions, before the code).
    pub subtotal: Money,
    /// What catalogue promotions took off the list prices (already inside `subtotal`).
    pub promotion_savings: Money,
    /// Σ line `discount`.
    pub discount: Money,
    /// The shipping amount charged.
    pub shipping_amount: Money,
    /// Σ line `tax` + shipping tax.
    pub tax: Money,
    /// `subtotal − discount + shipping` (+ `tax` when prices exclude tax).
    pub total: Money,
    /// Where the order goes (set by checkout; not part of the arithmetic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<quote::ShippingAddress>,
}

/// `value × numerator / denominator`, rounded half up; `None` on overflow or a zero denominator.
pub fn share(value: i64, numerator: i64, denominator: i64) -> Option<i64> {
    if denominator <= 0 || value < 0 || numerator < 0 {
        return None;
    }
    let product = i128::from(value).checked_mul(i128::from(numerator))?;
    let denominator = i128::from(denominator);
    let rounded = (product.checked_mul(2)? + denominator) / (denominator * 2);
    i64::try_from(rounded).ok()
}

/// The discount one value takes off `amount`, never more than `amount`.
fn discount_of(value: &DiscountValue, amount: i64) -> Option<i64> {
    let off = match value {
        DiscountValue::Percent { basis_points } => share(amount, *basis_points, 10_000)?,
        DiscountValue::Fixed { amount: fixed } => fixed.amount,
    };
    Some(off.clamp(0, amount))
}

/// Splits `amount` over `weights` in proportion (largest remainder), exactly.
pub fn allocate(amount: i64, weights: &[i64]) -> Option<Vec<i64>> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if total <= 0 {
        return Some(vec![0; weights.len()]);
    }
    let amount = i128::from(amount);
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = amount.checked_mul(i128::from(*weight))?;
        shares.push(exact / total);
        remainders.push((exact % total, index));
    }
    let mut left = amount - shares.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders {
        if left <= 0 {
            break;
        }
        shares[index] += 1;
        left -= 1;
    }
    shares.into_iter().map(|s| i64::try_from(s).ok()).collect()
}

/// Tax in an amount: out of a gross amount when prices include tax, on top of a net one otherwise.
fn tax_on(amount: i64, tax: &TaxRule) -> Option<i64> {
    if tax.prices_include_tax {
        share(
            amount,
            tax.rate_basis_points,
            10_000 + tax.rate_basis_points,
        )
    } else {
        share(amount, tax.rate_basis_points, 10_000)
    }
}

/// Prices `lines` in `currency` under `rules`.
pub fn price(
    currency: Currency,
    lines: &[LineInput],
    rules: &Rules,
) -> Result<PricedOrder, PricingError> {
    if lines.is_empty() {
        return Err(PricingError::Empty);
    }
    let overflow = || PricingError::Overflow;
    let money = |amount: i64| Money::new(amount, currency);

    // 1. Catalogue promotions: the best one per unit.
    struct Step1 {
        sale_unit: i64,
        promotion: Option<AppliedPromotion>,
        line_amount: i64,
    }
    let mut step1 = Vec::with_capacity(lines.len());
    for line in lines {
        let mut best: Option<(i64, &Promotion)> = None;
        for promotion in rules
            .promotions
            .iter()
            .filter(|p| p.target.matches(line) && p.value.currency().is_none_or(|c| c == currency))
        {
            let off = discount_of(&promotion.value, line.unit_price).ok_or_else(overflow)?;
            if off > 0 && best.is_none_or(|(b, _)| off > b) {
                best = Some((off, promotion));
            }
        }
        let off = best.map_or(0, |(off, _)| off);
        let sale_unit = line.unit_price - off;
        step1.push(Step1 {
            sale_unit,
            promotion: best.map(|(_, p)| AppliedPromotion {
                id: p.id.clone(),
                name: p.name.clone(),
            }),
            line_amount: sale_unit.checked_mul(line.quantity).ok_or_else(overflow)?,
        });
    }
    let subtotal = step1
        .iter()
        .try_fold(0i64, |sum, s| sum.checked_add(s.line_amount))
        .ok_or_else(overflow)?;
    let list_total = lines
        .iter()
        .try_fold(0i64, |sum, l| {
            sum.checked_add(l.unit_price.checked_mul(l.quantity)?)
        })
        .ok_or_else(overflow)?;

    // 2. The discount code, on the eligible lines.
    let mut discounts = vec![0i64; lines.len()];
    if let Some(code) = &rules.code {
        if let Some(code_currency) = code.value.currency()
            && code_currency != currency
        {
            return Err(PricingError::CodeCurrency {
                code: code_currency,
                cart: currency,
            });
        }
        if code
            .minimum_subtotal
            .is_some_and(|minimum| subtotal < minimum)
        {
            return Err(PricingError::BelowMinimum {
                minimum: code.minimum_subtotal.unwrap_or_default(),
            });
        }
        let eligible: Vec<bool> = lines.iter().map(|l| code.target.matches(l)).collect();
        if !eligible.iter().any(|e| *e) {
            return Err(PricingError::CodeNotApplicable);
        }
        match code.value {
            DiscountValue::Percent { basis_points } => {
                for (index, s) in step1.iter().enumerate() {
                    if eligible[index] {
                        discounts[index] =
                            share(s.line_amount, basis_points, 10_000).ok_or_else(overflow)?;
                    }
                }
            }
            DiscountValue::Fixed { amount: fixed } => {
                let amount = fixed.amount;
                let weights: Vec<i64> = step1
                    .iter()
                    .zip(&eligible)
                    .map(|(s, e)| if *e { s.line_amount } else { 0 })
                    .collect();
                let base: i64 = weights.iter().sum();
                discounts = allocate(amount.clamp(0, base), &weights).ok_or_else(overflow)?;
            }
        }
        for (discount, s) in discounts.iter_mut().zip(&step1) {
            *discount = (*discount).clamp(0, s.line_amount);
        }
    }
    let discount: i64 = discounts.iter().sum();
    let goods = subtotal - discount;

    // 3. Shipping, on the goods' value after discounts and their weight.
    let shipping = match &rules.shipping {
        None => None,
        Some(method) => {
            if method.currency() != currency {
                return Err(PricingError::ShippingCurrency {
                    method: method.currency(),
                    cart: currency,
                });
            }
            let grams = lines
                .iter()
                .try_fold(0i64, |sum, l| {
                    sum.checked_add(l.weight_grams.unwrap_or(0).checked_mul(l.quantity)?)
                })
                .ok_or_else(overflow)?;
            let amount = method.amount_for(goods, grams)?;
            Some((method, amount))
        }
    };
    let shipping_amount = shipping.map_or(0, |(_, amount)| amount);

    // 4. Tax, per line and on shipping.
    let mut priced = Vec::with_capacity(lines.len());
    let mut tax = 0i64;
    for ((line, s), discount) in lines.iter().zip(step1).zip(&discounts) {
        let taxable = s.line_amount - discount;
        let line_tax = tax_on(taxable, &rules.tax).ok_or_else(overflow)?;
        tax = tax.checked_add(line_tax).ok_or_else(overflow)?;
        priced.push(PricedLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
            list_unit_price: money(line.unit_price),
            unit_price: money(s.sale_unit),
            promotion: s.promotion,
            line_amount: money(s.line_amount),
            discount: money(*discount),
            tax: money(line_tax),
            total: money(taxable),
        });
    }
    let shipping_tax = tax_on(shipping_amount, &rules.tax).ok_or_else(overflow)?;
    tax = tax.checked_add(shipping_tax).ok_or_else(overflow)?;
    let mut total = goods.checked_add(shipping_amount).ok_or_else(overflow)?;
    if !rules.tax.prices_include_tax {
        total = total.checked_add(tax).ok_or_else(overflow)?;
    }
    Ok(PricedOrder {
        currency: currency.as_str().to_owned(),
        lines: priced,
        discount_code: rules.code.as_ref().map(|c| c.code.clone()),
        shipping: shipping.map(|(method, amount)| PricedShipping {
            method_id: method.id.clone(),
            name: method.name.clone(),
            amount: money(amount),
            tax: money(shipping_tax),
        }),
        tax_rate_basis_points: rules.tax.rate_basis_points,
        prices_include_tax: rules.tax.prices_include_tax,
        subtotal: money(subtotal),
        promotion_savings: money(list_total - subtotal),
        discount: money(discount),
        shipping_amount: money(shipping_amount),
        tax: money(tax),
        total: money(total),
        shipping_address: None,
    })
}

#[cfg(test)]
mod tests;
