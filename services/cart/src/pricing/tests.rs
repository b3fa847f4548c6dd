use proptest::prelude::*;

use super::*;

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR)
}

fn line(sku: &str, unit_price: i64, quantity: i64) -> LineInput {
    LineInput {
        sku: sku.to_owned(),
        product_id: format!("p-{sku}"),
        category_ids: vec!["cat-all".to_owned()],
        quantity,
        unit_price,
        weight_grams: Some(250),
    }
}

fn percent(basis_points: i64) -> DiscountValue {
    DiscountValue::Percent { basis_points }
}

fn vat(rate_basis_points: i64, prices_include_tax: bool) -> TaxRule {
    TaxRule {
        rate_basis_points,
        prices_include_tax,
    }
}

#[test]
fn shares_round_half_up() {
    assert_eq!(share(5, 1, 10), Some(1), "0.5 rounds up");
    assert_eq!(share(4, 1, 10), Some(0));
    assert_eq!(share(15, 1, 10), Some(2), "1.5 rounds up");
    assert_eq!(share(1000, 2000, 12_000), Some(167), "166.67 → 167");
    assert_eq!(share(1, 1, 0), None);
}

#[test]
fn allocation_adds_up_and_favours_the_largest_remainders() {
    assert_eq!(allocate(100, &[1, 1, 1]).unwrap(), vec![34, 33, 33]);
    assert_eq!(allocate(10, &[0, 5, 0]).unwrap(), vec![0, 10, 0]);
    assert_eq!(allocate(7, &[0, 0]).unwrap(), vec![0, 0]);
}

#[test]
fn the_pricing_order_is_promotion_then_code_then_shipping_then_tax() {
    let rules = Rules {
        promotions: vec![Promotion {
            id: "sale".into(),
            name: "Sale".into(),
            value: percent(1000),
            target: Target::default(),
        }],
        code: Some(DiscountCode {
            code: "TEN".into(),
            value: DiscountValue::Fixed { amount: eur(1000) },
            target: Target::default(),
            minimum_subtotal: None,
        }),
        shipping: Some(ShippingMethod {
            id: "standard".into(),
            name: "Standard".into(),
            rate: ShippingRate::Flat { amount: eur(500) },
            free_over: None,
        }),
        tax: vat(2000, false),
    };
    let priced = price(Currency::EUR, &[line("A", 5000, 2)], &rules).unwrap();
    let l = &priced.lines[0];
    assert_eq!(l.unit_price, eur(4500), "10 % catalogue promotion first");
    assert_eq!(l.line_amount, eur(9000));
    assert_eq!(l.discount, eur(1000), "then the code on the sale price");
    assert_eq!(l.tax, eur(1600), "20 % of 80.00");
    assert_eq!(priced.shipping_amount, eur(500));
    assert_eq!(priced.shipping.as_ref().unwrap().tax, eur(100));
    assert_eq!(priced.tax, eur(1700));
    assert_eq!(priced.promotion_savings, eur(1000));
    assert_eq!(priced.total, eur(9000 - 1000 + 500 + 1700));
}

#[test]
fn tax_included_in_prices_is_taken_out_of_each_line() {
    let rules = Rules {
        tax: vat(2000, true),
        ..Rules::default()
    };
    let priced = price(
        Currency::EUR,
        &[line("A", 1000, 1), line("B", 999, 3)],
        &rules,
    )
    .unwrap();
    // 1000 × 2000 / 12000 = 166.67 → 167; 2997 × 2000 / 12000 = 499.5 → 500.
    assert_eq!(priced.lines[0].tax, eur(167));
    assert_eq!(priced.lines[1].tax, eur(500));
    assert_eq!(priced.tax, eur(667));
    assert_eq!(priced.total, eur(3997), "tax is inside the prices");
}

#[test]
fn the_best_promotion_wins_and_promotions_never_stack() {
    let rules = Rules {
        promotions: vec![
            Promotion {
                id: "small".into(),
                name: "Small".into(),
                value: percent(500),
                target: Target::default(),
            },
            Promotion {
                id: "big".into(),
                name: "Big".into(),
                value: DiscountValue::Fixed { amount: eur(300) },
                target: Target {
                    skus: vec!["A".into()],
                    ..Target::default()
                },
            },
        ],
        ..Rules::default()
    };
    let priced = price(
        Currency::EUR,
        &[line("A", 1000, 1), line("B", 1000, 1)],
        &rules,
    )
    .unwrap();
    assert_eq!(priced.lines[0].unit_price, eur(700));
    assert_eq!(priced.lines[0].promotion.as_ref().unwrap().id, "big");
    assert_eq!(priced.lines[1].unit_price, eur(950));
    assert_eq!(priced.lines[1].promotion.as_ref().unwrap().id, "small");
}

#[test]
fn a_code_for_one_category_discounts_only_its_lines_and_checks_the_minimum() {
    let mut other = line("B", 2000, 1);
    other.category_ids = vec!["cat-books".into()];
    let code = DiscountCode {
        code: "BOOKS".into(),
        value: percent(2500),
        target: Target {
            category_ids: vec!["cat-books".into()],
            ..Target::default()
        },
        minimum_subtotal: Some(3000),
    };
    let rules = Rules {
        code: Some(code.clone()),
        ..Rules::default()
    };
    let priced = price(Currency::EUR, &[line("A", 1000, 1), other.clone()], &rules).unwrap();
    assert_eq!(priced.lines[0].discount, eur(0));
    assert_eq!(priced.lines[1].discount, eur(500));
    assert_eq!(
        price(Currency::EUR, &[other], &rules),
        Err(PricingError::BelowMinimum { minimum: 3000 })
    );
    assert_eq!(
        price(Currency::EUR, &[line("A", 5000, 1)], &rules),
        Err(PricingError::CodeNotApplicable)
    );
}

#[test]
fn a_fixed_code_never_exceeds_the_goods() {
    let rules = Rules {
        code: Some(DiscountCode {
            code: "BIG".into(),
            value: DiscountValue::Fixed {
                amount: eur(100_000),
            },
            target: Target::default(),
            minimum_subtotal: None,
        }),
        ..Rules::default()
    };
    let priced = price(Currency::EUR, &[line("A", 1000, 2)], &rules).unwrap();
    assert_eq!(priced.discount, eur(2000));
    assert_eq!(priced.total, eur(0));
}

#[test]
fn shipping_by_weight_picks_the_first_tier_that_fits_and_is_free_over_the_threshold() {
    let method = ShippingMethod {
        id: "parcel".into(),
        name: "Parcel".into(),
        rate: ShippingRate::ByWeight {
            tiers: vec![
                WeightTier {
                    up_to_grams: 5000,
                    amount: eur(990),
                },
                WeightTier {
                    up_to_grams: 1000,
                    amount: eur(490),
                },
            ],
        },
        free_over: Some(eur(10_000)),
    };
    assert_eq!(method.amount_for(2000, 1000), Ok(490));
    assert_eq!(method.amount_for(2000, 1001), Ok(990));
    assert_eq!(
        method.amount_for(2000, 5001),
        Err(PricingError::TooHeavy { grams: 5001 })
    );
    assert_eq!(method.amount_for(10_000, 1000), Ok(0), "free over 100.00");
    let by_price = ShippingMethod {
        rate: ShippingRate::ByPrice {
            tiers: vec![
                PriceTier {
                    from: eur(0),
                    amount: eur(700),
                },
                PriceTier {
                    from: eur(5000),
                    amount: eur(300),
                },
            ],
        },
        free_over: None,
        ..method
    };
    assert_eq!(by_price.amount_for(4999, 0), Ok(700));
    assert_eq!(by_price.amount_for(5000, 0), Ok(300));
}

#[test]
fn currencies_that_differ_are_refused() {
    let usd = Currency::parse("USD").unwrap();
    let rules = Rules {
        code: Some(DiscountCode {
            code: "USD5".into(),
            value: DiscountValue::Fixed {
                amount: Money::new(500, usd),
            },
            target: Target::default(),
            minimum_subtotal: None,
        }),
        ..Rules::default()
    };
    assert!(matches!(
        price(Currency::EUR, &[line("A", 1000, 1)], &rules),
        Err(PricingError::CodeCurrency { .. })
    ));
}

fn arbitrary_line() -> impl Strategy<Value = LineInput> {
    (0i64..1_000_000, 1i64..100, 0usize..3).prop_map(|(unit, quantity, category)| LineInput {
        sku: format!("S{unit}-{quantity}"),
        product_id: format!("p{}", unit % 7),
        category_ids: vec![format!("c{category}")],
        quantity,
        unit_price: unit,
        weight_grams: Some(unit % 3000),
    })
}

fn arbitrary_value() -> impl Strategy<Value = DiscountValue> {
    prop_oneof![
        (1i64..=10_000).prop_map(|basis_points| DiscountValue::Percent { basis_points }),
        (1i64..10_000_000).prop_map(|a| DiscountValue::Fixed { amount: eur(a) }),
    ]
}

fn arbitrary_rules() -> impl Strategy<Value = Rules> {
    (
        proptest::option::of(arbitrary_value()),
        proptest::option::of(arbitrary_value()),
        0i64..=5000,
        any::<bool>(),
        proptest::option::of(0i64..5000),
        proptest::option::of(0i64..100_000),
    )
        .prop_map(
            |(promotion, code, rate, included, shipping, free_over)| Rules {
                promotions: promotion
                    .map(|value| Promotion {
                        id: "p".into(),
                        name: "P".into(),
                        value,
                        target: Target {
                            category_ids: vec!["c1".into()],
                            ..Target::default()
                        },
                    })
                    .into_iter()
                    .collect(),
                code: code.map(|value| DiscountCode {
                    code: "C".into(),
                    value,
                    target: Target::default(),
                    minimum_subtotal: None,
                }),
                shipping: shipping.map(|amount| ShippingMethod {
                    id: "s".into(),
                    name: "S".into(),
                    rate: ShippingRate::Flat {
                        amount: eur(amount),
                    },
                    free_over: free_over.map(eur),
                }),
                tax: vat(rate, included),
            },
        )
}

proptest! {
    #[test]
    fn totals_are_never_negative_and_the_lines_add_up(
        lines in proptest::collection::vec(arbitrary_line(), 1..12),
        rules in arbitrary_rules(),
    ) {
        let priced = price(Currency::EUR, &lines, &rules).unwrap();
        let sum = |f: fn(&PricedLine) -> i64| priced.lines.iter().map(f).sum::<i64>();
        prop_assert_eq!(priced.subtotal.amount, sum(|l| l.line_amount.amount));
        prop_assert_eq!(priced.discount.amount, sum(|l| l.discount.amount));
        let shipping_tax = priced.shipping.as_ref().map_or(0, |s| s.tax.amount);
        prop_assert_eq!(priced.tax.amount, sum(|l| l.tax.amount) + shipping_tax);
        let mut expected = priced.subtotal.amount - priced.discount.amount + priced.shipping_amount.amount;
        if !rules.tax.prices_include_tax {
            expected += priced.tax.amount;
        }
        prop_assert_eq!(priced.total.amount, expected);
        prop_assert!(priced.total.amount >= 0);
        for line in &priced.lines {
            prop_assert!(line.unit_price.amount >= 0);
            prop_assert!(line.unit_price.amount <= line.list_unit_price.amount);
            prop_assert!(line.discount.amount >= 0 && line.discount.amount <= line.line_amount.amount);
            prop_assert!(line.tax.amount >= 0);
            prop_assert_eq!(line.total.amount, line.line_amount.amount - line.discount.amount);
            if rules.tax.prices_include_tax {
                prop_assert!(line.tax.amount <= line.total.amount);
            }
        }
    }

    #[test]
    fn tax_on_each_line_is_the_half_up_rounding_of_its_exact_share(
        lines in proptest::collection::vec(arbitrary_line(), 1..40),
        rate in 0i64..=5000,
        included in any::<bool>(),
    ) {
        let rules = Rules { tax: vat(rate, included), ..Rules::default() };
        let priced = price(Currency::EUR, &lines, &rules).unwrap();
        for line in &priced.lines {
            let amount = i128::from(line.total.amount);
            let (num, den) = if included {
                (amount * i128::from(rate), i128::from(10_000 + rate))
            } else {
                (amount * i128::from(rate), 10_000)
            };
            // Half up: the rounded tax t satisfies |t − exact| ≤ ½ and ties go up.
            let t = i128::from(line.tax.amount);
            prop_assert!(2 * (t * den - num) <= den && 2 * (num - t * den) < den);
        }
    }

    #[test]
    fn fixed_codes_are_split_exactly(
        lines in proptest::collection::vec(arbitrary_line(), 1..12),
        amount in 1i64..10_000_000,
    ) {
        let rules = Rules {
            code: Some(DiscountCode {
                code: "C".into(),
                value: DiscountValue::Fixed { amount: eur(amount) },
                target: Target::default(),
                minimum_subtotal: None,
            }),
            ..Rules::default()
        };
        let priced = price(Currency::EUR, &lines, &rules).unwrap();
        prop_assert_eq!(priced.discount.amount, amount.min(priced.subtotal.amount));
    }
}
