//! `POST /api/cart/checkout`: the signed-in shopper's cart becomes an order through the saga in
//! [`saga`], exactly once per `Idempotency-Key` ([`idempotency`]).

pub mod idempotency;
pub mod saga;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use storefront_kit::{Json, Principal, Problem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{self, Error};
use crate::ids::IdempotencyKey;
use crate::pricing::quote::{PricingChoices, ShippingAddress};
use idempotency::{Begin, StoredResponse};
use saga::Outcome;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(checkout))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequest {
    /// From the payment provider's client SDK; with the sandbox, one of its test card numbers.
    pub payment_token: String,
    /// Required when the store has shipping zones; its country decides methods and tax.
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    /// One of the methods a quote offers for the address' country.
    #[serde(default)]
    pub shipping_method_id: Option<String>,
    #[serde(default)]
    pub discount_code: Option<String>,
}

/// The required `Idempotency-Key` header.
pub fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, Error> {
    let value = headers.get(IDEMPOTENCY_KEY).ok_or_else(|| {
        Error::BadRequest("Checkout requires an Idempotency-Key header (e.g. a UUID).".into())
    })?;
    value
        .to_str()
        .ok()
        .and_then(IdempotencyKey::parse)
        .ok_or_else(|| {
            Error::BadRequest("The Idempotency-Key must be 1–255 visible ASCII characters.".into())
        })
}

/// Places the order. 201 with the CONFIRMED order; a FAILED order answers with a problem that
/// names it (402 declined, 409 out of stock, 502 payment error); 503 + `Retry-After` when the
/// catalog is down (the order, if created, is finished later by the recovery loop). A replay
/// of the key gets the first answer with `Idempotent-Replayed: true`.
#[utoipa::path(post, path = "/api/cart/checkout", tag = "checkout", request_body = CheckoutRequest,
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; a replay returns the first answer")),
    security(("bearer" = [])),
    responses((status = 201, description = "The CONFIRMED order", body = crate::orders::Order),
        (status = 400, description = "Missing or malformed Idempotency-Key", body = Problem),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 402, description = "Declined; the FAILED order's id and reason", body = Problem),
        (status = 409, description = "Out of stock, the discount code was just used up, or the key's first request is still running", body = Problem),
        (status = 422, description = "Empty cart, a SKU not sold, a code that cannot be used, a missing or unknown shipping method, bad body, or the key reused with another body", body = Problem),
        (status = 502, description = "The payment provider failed", body = Problem),
        (status = 503, description = "The catalog is down; retry with the same key", body = Problem)))]
async fn checkout(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(request): Json<CheckoutRequest>,
) -> Result<Response, Error> {
    let key = idempotency_key(&headers)?;
    let token = request.payment_token.trim();
    if token.is_empty() || token.len() > 200 {
        return Err(Error::invalid("paymentToken", "must be 1–200 characters"));
    }
    let choices = PricingChoices {
        shipping_address: request.shipping_address,
        shipping_method_id: request.shipping_method_id,
        discount_code: request.discount_code,
    };
    // Without pricing choices the fingerprint stays what it was before they existed.
    let fingerprint = if choices == PricingChoices::default() {
        idempotency::fingerprint(&["checkout/v1", token])
    } else {
        let choices_json =
            serde_json::to_string(&choices).map_err(|e| Error::Internal(e.to_string()))?;
        idempotency::fingerprint(&["checkout/v1", token, &choices_json])
    };
    let user = principal.user_id.as_str();
    match idempotency::begin(
        &state.db,
        user,
        &key,
        &fingerprint,
        state.checkout.idempotency_wait,
    )
    .await?
    {
        Begin::Replay(stored) => return Ok(replay(stored, true)),
        Begin::Started => {}
    }
    let claim = match saga::create_priced_order(&state, user, Some(&key), token, &choices).await {
        Ok(claim) => claim,
        Err(error) => {
            // Nothing happened, so the same key may be used again.
            if let Err(cleanup) = idempotency::abandon(&state.db, user, &key).await {
                tracing::warn!(error = %cleanup, "could not free an idempotency key");
            }
            return Err(error);
        }
    };
    match saga::drive(&state, claim).await? {
        Outcome::Settled(stored) => Ok(replay(stored, false)),
        Outcome::Suspended { order, retry_after } => {
            let problem = Problem::service_unavailable(
                format!(
                    "Order {order} is accepted but cannot be completed right now; retry with the \
                     same Idempotency-Key to get its outcome."
                ),
                error::seconds(retry_after),
            );
            Ok(problem.into_response())
        }
    }
}

fn replay(stored: StoredResponse, replayed: bool) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
