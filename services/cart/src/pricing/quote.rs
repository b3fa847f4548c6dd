//! Pricing with the store's rules loaded from the `orders` database: the quote a cart shows,
//! the sale prices product pages show, and the price checkout charges (the truth).

use axum::extract::State;
use futures::future::try_join_all;
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use storefront_kit::{FieldError, Json, Principal, Problem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{LineInput, PricedOrder, PricingError, Rules, price};
use crate::AppState;
use crate::carts::{self, CartOwner};
use crate::catalog_client::SkuView;
use crate::error::Error;
use crate::ids::Sku;
use crate::money::{Currency, Money};
use crate::promotions::{self, codes};
use crate::shipping;
use crate::tax::{self, valid_country};

/// Where the order goes. Only `country` is needed for pricing; the rest is kept on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingAddress {
    /// ISO 3166-1 alpha-2, e.g. DE.
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

impl ShippingAddress {
    pub fn normalized(&self) -> Result<ShippingAddress, Error> {
        let mut errors = Vec::new();
        let country = self.country.trim().to_ascii_uppercase();
        if !valid_country(&country) {
            errors.push(FieldError::new(
                "shippingAddress.country",
                "must be an ISO 3166-1 alpha-2 code, e.g. DE",
            ));
        }
        let clean = |field: &str, value: &Option<String>, errors: &mut Vec<FieldError>| {
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty());
            if value.is_some_and(|v| v.chars().count() > 200) {
                errors.push(FieldError::new(
                    format!("shippingAddress.{field}"),
                    "at most 200 characters",
                ));
            }
            value.map(str::to_owned)
        };
        let address = ShippingAddress {
            name: clean("name", &self.name, &mut errors),
            line1: clean("line1", &self.line1, &mut errors),
            line2: clean("line2", &self.line2, &mut errors),
            city: clean("city", &self.city, &mut errors),
            postal_code: clean("postalCode", &self.postal_code, &mut errors),
            country,
        };
        if errors.is_empty() {
            Ok(address)
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

/// The shopper's choices that pricing depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PricingChoices {
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    #[serde(default)]
    pub shipping_method_id: Option<String>,
    #[serde(default)]
    pub discount_code: Option<String>,
}

impl PricingChoices {
    pub fn code(&self) -> Option<&str> {
        self.discount_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }
}

/// A method the shopper may pick, with what it costs for this cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOption {
    pub id: String,
    pub name: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Absent for an empty cart.
    pub pricing: Option<PricedOrder>,
    /// Methods for the address' country (empty without one).
    pub shipping_options: Vec<ShippingOption>,
    /// Whether checkout needs an address and a method (the store has shipping zones).
    pub requires_shipping: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<ShippingAddress>,
}

/// The pricing line of a catalog SKU.
pub fn line_input(view: &SkuView, quantity: i64) -> LineInput {
    LineInput {
        sku: view.sku.clone(),
        product_id: view.product_id.clone(),
        category_ids: view.category_ids.clone(),
        quantity,
        unit_price: view.price.amount,
        weight_grams: view.weight_grams,
    }
}

fn pricing_error(error: PricingError) -> Error {
    match error {
        PricingError::BelowMinimum { .. }
        | PricingError::CodeNotApplicable
        | PricingError::CodeCurrency { .. } => Error::invalid("discountCode", error.to_string()),
        PricingError::ShippingCurrency { .. } | PricingError::TooHeavy { .. } => {
            Error::invalid("shippingMethodId", error.to_string())
        }
        PricingError::Overflow | PricingError::Empty => Error::invalid("cart", error.to_string()),
    }
}

/// Prices `lines` (all in `currency`) for `user` under the rules in force and the shopper's
/// choices. With `require_shipping`, a store with shipping zones insists on an address and a
/// method (checkout); a quote prices what it can.
pub async fn price_lines(
    state: &AppState,
    currency: Currency,
    lines: &[LineInput],
    choices: &PricingChoices,
    user: Option<&str>,
    require_shipping: bool,
) -> Result<Quote, Error> {
    let address = choices
        .shipping_address
        .as_ref()
        .map(ShippingAddress::normalized)
        .transpose()?;
    let country = address.as_ref().map(|a| a.country.as_str());
    let mut conn = state.db.acquire().await?;
    let requires_shipping = shipping::ships_anywhere(&mut conn).await?;
    let mut rules = Rules {
        promotions: promotions::active(&mut conn).await?,
        tax: tax::rule_for(&mut conn, country).await?,
        ..Rules::default()
    };
    if let Some(code) = choices.code() {
        rules.code = Some(codes::usable(&mut conn, code, user, currency).await?);
    }
    let methods = match country {
        Some(country) => shipping::methods_for(&mut conn, country).await?,
        None => Vec::new(),
    };
    drop(conn);
    if require_shipping && requires_shipping {
        let mut missing = Vec::new();
        if address.is_none() {
            missing.push(FieldError::new("shippingAddress", "is required"));
        }
        if choices.shipping_method_id.is_none() {
            missing.push(FieldError::new("shippingMethodId", "is required"));
        }
        if !missing.is_empty() {
            return Err(Error::Invalid(missing));
        }
    }
    if let Some(id) = &choices.shipping_method_id {
        let Some(country) = country else {
            return Err(Error::invalid(
                "shippingAddress",
                "is required to choose a shipping method",
            ));
        };
        let method = methods.iter().find(|m| &m.id == id).ok_or_else(|| {
            Error::invalid(
                "shippingMethodId",
                format!("is not a shipping method for {country}"),
            )
        })?;
        rules.shipping = Some(method.clone());
    }
    if lines.is_empty() {
        return Ok(Quote {
            pricing: None,
            shipping_options: Vec::new(),
            requires_shipping,
            shipping_address: address,
        });
    }
    let priced = price(currency, lines, &rules).map_err(pricing_error)?;
    let mut shipping_options = Vec::new();
    for method in methods {
        let with_method = Rules {
            shipping: Some(method.clone()),
            ..rules.clone()
        };
        // A method that cannot carry this cart (too heavy, other currency) is not offered.
        if let Ok(option) = price(currency, lines, &with_method) {
            shipping_options.push(ShippingOption {
                id: method.id,
                name: method.name,
                amount: option.shipping_amount,
            });
        }
    }
    Ok(Quote {
        pricing: Some(priced),
        shipping_options,
        requires_shipping,
        shipping_address: address,
    })
}

/// The single currency of the lines (a 422 when they mix currencies).
pub fn currency_of(views: &[&SkuView]) -> Result<Option<Currency>, Error> {
    let mut currency = None;
    for view in views {
        match currency {
            None => currency = Some(view.price.currency),
            Some(c) if c != view.price.currency => {
                return Err(Error::invalid("cart", "mixes currencies"));
            }
            Some(_) => {}
        }
    }
    Ok(currency)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .routes(routes!(sale_prices))
}

/// Prices the caller's cart (a signed-in user's, or the guest cart in `X-Cart-Id`) with the
/// promotions in force, an optional code, and the address and method chosen. Lines the catalog
/// no longer sells are left out. Nothing is stored; checkout prices again.
#[utoipa::path(post, path = "/api/cart/quote", tag = "pricing", request_body = PricingChoices,
    responses((status = 200, description = "The priced cart and the shipping options", body = Quote),
        (status = 400, description = "Malformed body or cart id", body = Problem),
        (status = 422, description = "A code that cannot be used, an unknown method or a bad address", body = Problem),
        (status = 503, description = "The catalog is down", body = Problem)))]
async fn quote(
    State(state): State<AppState>,
    principal: Option<Principal>,
    headers: HeaderMap,
    Json(choices): Json<PricingChoices>,
) -> Result<Json<Quote>, Error> {
    let owner = match &principal {
        Some(p) => Some(CartOwner::User(p.user_id.clone())),
        None => carts::guest_cart_id(&headers)?.map(CartOwner::Guest),
    };
    let cart = match &owner {
        Some(owner) => state.carts.lines(owner).await?,
        None => Vec::new(),
    };
    let found = try_join_all(cart.iter().map(|(sku, _)| state.catalog.sku(sku))).await?;
    let sold: Vec<(SkuView, i64)> = cart
        .iter()
        .zip(found)
        .filter_map(|((_, quantity), view)| view.filter(SkuView::for_sale).map(|v| (v, *quantity)))
        .collect();
    let currency =
        currency_of(&sold.iter().map(|(v, _)| v).collect::<Vec<_>>())?.unwrap_or(Currency::EUR);
    let lines: Vec<LineInput> = sold.iter().map(|(v, q)| line_input(v, *q)).collect();
    let user = principal.as_ref().map(|p| p.user_id.as_str());
    Ok(Json(
        price_lines(&state, currency, &lines, &choices, user, false).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SalePriceRequest {
    /// 1–100 SKUs.
    pub skus: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalePrice {
    pub sku: String,
    /// The catalog's price.
    pub list_price: Money,
    /// The price after the best catalogue promotion in force.
    pub price: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<super::AppliedPromotion>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalePrices {
    /// SKUs the catalog does not sell are left out.
    pub items: Vec<SalePrice>,
}

/// Sale prices of SKUs under the catalogue promotions in force, for product and cart pages.
/// Checkout reprices; this is for display.
#[utoipa::path(post, path = "/api/cart/prices", tag = "pricing", request_body = SalePriceRequest,
    responses((status = 200, description = "Sale prices", body = SalePrices),
        (status = 400, description = "Malformed body", body = Problem),
        (status = 422, description = "No SKUs, too many, or a malformed one", body = Problem),
        (status = 503, description = "The catalog is down", body = Problem)))]
async fn sale_prices(
    State(state): State<AppState>,
    Json(request): Json<SalePriceRequest>,
) -> Result<Json<SalePrices>, Error> {
    if request.skus.is_empty() || request.skus.len() > 100 {
        return Err(Error::invalid("skus", "must list 1 to 100 SKUs"));
    }
    let mut skus = Vec::with_capacity(request.skus.len());
    for (i, sku) in request.skus.iter().enumerate() {
        let sku = Sku::parse(sku).map_err(|m| Error::invalid(&format!("skus[{i}]"), m))?;
        if !skus.contains(&sku) {
            skus.push(sku);
        }
    }
    let found = try_join_all(skus.iter().map(|sku| state.catalog.sku(sku))).await?;
    let promotions = {
        let mut conn = state.db.acquire().await?;
        promotions::active(&mut conn).await?
    };
    let rules = Rules {
        promotions,
        ..Rules::default()
    };
    let mut items = Vec::new();
    for view in found.into_iter().flatten().filter(SkuView::for_sale) {
        let priced =
            price(view.price.currency, &[line_input(&view, 1)], &rules).map_err(pricing_error)?;
        if let Some(line) = priced.lines.into_iter().next() {
            items.push(SalePrice {
                sku: view.sku,
                list_price: line.list_unit_price,
                price: line.unit_price,
                promotion: line.promotion,
            });
        }
    }
    Ok(Json(SalePrices { items }))
}
