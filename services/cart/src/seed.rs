//! The demo store's pricing rules: tax rates (prices include tax), a domestic and an
//! international shipping zone, an automatic promotion on the Books department and a welcome
//! code. Idempotent: a rule that already exists (perhaps edited by an admin) is left alone.

use serde::Serialize;

use crate::AppState;
use crate::error::Error;
use crate::money::{Currency, Money};
use crate::pricing::{DiscountValue, ShippingMethod, ShippingRate, Target, WeightTier};
use crate::promotions::codes::{self, DiscountCodeInput};
use crate::promotions::{self, PromotionInput};
use crate::shipping::{self, ZoneInput};
use crate::tax::{self, TaxRate, TaxSettings};

/// What a seed run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedReport {
    pub created: Vec<String>,
    pub already_present: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

impl SeedReport {
    fn note(&mut self, created: bool, what: &str) {
        if created {
            self.created.push(what.to_owned());
        } else {
            self.already_present.push(what.to_owned());
        }
    }
}

pub const DEMO_CODE: &str = "WELCOME10";

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR)
}

fn tier(up_to_grams: i64, amount: i64) -> WeightTier {
    WeightTier {
        up_to_grams,
        amount: eur(amount),
    }
}

async fn exists(state: &AppState, sql: &str, id: &str) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&state.db)
        .await?)
}

pub async fn run(state: &AppState) -> Result<SeedReport, Error> {
    let mut report = SeedReport::default();

    let rates_exist: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tax_rates)")
        .fetch_one(&state.db)
        .await?;
    if !rates_exist {
        let rate = |country: &str, rate_basis_points| TaxRate {
            country: country.to_owned(),
            rate_basis_points,
        };
        let settings = TaxSettings {
            prices_include_tax: true,
            rates: vec![
                rate("DE", 1900),
                rate("AT", 2000),
                rate("FR", 2000),
                rate("NL", 2100),
                rate("IT", 2200),
            ],
        };
        tax::save(&state.db, &settings).await?;
    }
    report.note(!rates_exist, "tax rates");

    let zones = [
        (
            "domestic",
            ZoneInput {
                name: "Germany".into(),
                countries: vec!["DE".into()],
                methods: vec![
                    ShippingMethod {
                        id: "standard".into(),
                        name: "Standard (2–4 days)".into(),
                        rate: ShippingRate::ByWeight {
                            tiers: vec![tier(1000, 490), tier(5000, 690), tier(31_500, 1290)],
                        },
                        free_over: Some(eur(5000)),
                    },
                    ShippingMethod {
                        id: "express".into(),
                        name: "Express (next day)".into(),
                        rate: ShippingRate::Flat { amount: eur(1490) },
                        free_over: None,
                    },
                ],
            },
        ),
        (
            "international",
            ZoneInput {
                name: "Europe and the world".into(),
                countries: ["AT", "FR", "NL", "IT", "BE", "ES", "GB", "CH", "US"]
                    .map(String::from)
                    .to_vec(),
                methods: vec![ShippingMethod {
                    id: "international".into(),
                    name: "International (4–8 days)".into(),
                    rate: ShippingRate::ByWeight {
                        tiers: vec![tier(2000, 1290), tier(31_500, 2490)],
                    },
                    free_over: Some(eur(15_000)),
                }],
            },
        ),
    ];
    for (id, zone) in zones {
        let present = exists(
            state,
            "SELECT EXISTS (SELECT 1 FROM shipping_zones WHERE id = $1)",
            id,
        )
        .await?;
        if !present {
            shipping::save_zone(&state.db, id, &zone).await?;
        }
        report.note(!present, &format!("shipping zone {id}"));
    }

    let promotion_id = "books-week";
    if exists(
        state,
        "SELECT EXISTS (SELECT 1 FROM promotions WHERE id = $1)",
        promotion_id,
    )
    .await?
    {
        report.note(false, &format!("promotion {promotion_id}"));
    } else {
        match state.catalog.category_id("books").await? {
            Some(books) => {
                let input = PromotionInput {
                    name: "Books week: 15 % off".into(),
                    value: DiscountValue::Percent { basis_points: 1500 },
                    target: Target {
                        category_ids: vec![books],
                        ..Target::default()
                    },
                    starts_at: None,
                    ends_at: None,
                    active: true,
                };
                promotions::save_promotion(&state.db, promotion_id, &input).await?;
                report.note(true, &format!("promotion {promotion_id}"));
            }
            None => report
                .skipped
                .push(format!("promotion {promotion_id}: no books category")),
        }
    }

    let present = exists(
        state,
        "SELECT EXISTS (SELECT 1 FROM discount_codes WHERE code = $1)",
        DEMO_CODE,
    )
    .await?;
    if !present {
        let input = DiscountCodeInput {
            description: "10 % off a first order over 20 €".into(),
            value: DiscountValue::Percent { basis_points: 1000 },
            target: Target::default(),
            minimum_subtotal: Some(eur(2000)),
            starts_at: None,
            ends_at: None,
            usage_limit: None,
            per_customer_limit: Some(1),
            active: true,
        };
        codes::save_code(&state.db, DEMO_CODE, &input).await?;
    }
    report.note(!present, &format!("discount code {DEMO_CODE}"));
    Ok(report)
}
