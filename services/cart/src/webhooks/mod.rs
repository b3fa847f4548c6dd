//! Webhooks: endpoints a store admin registers for events (orders placed, cancelled, shipped,
//! expired, refunded; products changed), and their signed, retried, recorded deliveries.
//! [`sources`] turns events into queued deliveries, [`deliveries`] sends them, [`client`] and
//! [`address`] keep them off the store's own network, [`signature`] signs them.

pub mod address;
pub mod client;
pub mod deliveries;
pub mod endpoints;
pub mod signature;
pub mod sources;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use storefront_kit::{Admin, FieldError, Json, Path, Problem, Query, Shutdown};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::config::WebhookSettings;
use crate::error::Error;
use crate::ids::IdempotencyKey;
use deliveries::{Delivery, DeliveryStatus};
use endpoints::{EVENT_TYPES, Endpoint, EndpointChange, NewEndpoint};
use storefront_kit::page::{self, Page};

/// The settings and the one HTTP client every delivery goes out on.
#[derive(Debug, Clone)]
pub struct Webhooks {
    pub settings: WebhookSettings,
    pub http: reqwest::Client,
}

impl Webhooks {
    /// Needs a TLS crypto provider installed first.
    pub fn new(settings: WebhookSettings) -> Result<Self, Error> {
        let http = client::http_client(settings.timeout, settings.allow_private_targets)
            .map_err(Error::Internal)?;
        Ok(Self { settings, http })
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(replay_delivery))
        .routes(routes!(ping_endpoint))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointList {
    pub items: Vec<Endpoint>,
    /// Every event type an endpoint may subscribe to.
    pub event_types: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateEndpoint {
    /// https URL (http only where the store allows private targets).
    pub url: String,
    /// One or more of the event types.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateEndpoint {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    /// A new secret replaces the old one at once.
    #[serde(default)]
    pub rotate_secret: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// pending, succeeded or failed.
    pub status: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
}

fn endpoint_id(value: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(value).map_err(|_| Error::NotFound(format!("No webhook endpoint {value:?}.")))
}

fn delivery_id(value: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(value).map_err(|_| Error::NotFound(format!("No delivery {value:?}.")))
}

fn validate_events(events: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if events.is_empty() {
        errors.push(FieldError::new(
            "events",
            "must name at least one event type",
        ));
    }
    let mut chosen = BTreeSet::new();
    for (index, event) in events.iter().enumerate() {
        if EVENT_TYPES.contains(&event.as_str()) {
            chosen.insert(event.clone());
        } else {
            errors.push(FieldError::new(
                format!("events[{index}]"),
                format!("must be one of {}", EVENT_TYPES.join(", ")),
            ));
        }
    }
    chosen.into_iter().collect()
}

async fn validate_url(
    url: &str,
    settings: &WebhookSettings,
    errors: &mut Vec<FieldError>,
) -> String {
    let url = url.trim();
    if url.is_empty() || url.len() > 2048 {
        errors.push(FieldError::new("url", "must be 1–2048 characters"));
    } else if let Err(error) = client::check_target(url, settings.allow_private_targets).await {
        errors.push(FieldError::new("url", error.to_string()));
    }
    url.to_owned()
}

fn validate_description(description: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let description = description.unwrap_or_default().trim();
    if description.chars().count() > 200 {
        errors.push(FieldError::new(
            "description",
            "must be at most 200 characters",
        ));
    }
    description.to_owned()
}

fn optional_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, Error> {
    headers
        .get(crate::checkout::IDEMPOTENCY_KEY)
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(IdempotencyKey::parse)
                .ok_or_else(|| {
                    Error::BadRequest(
                        "The Idempotency-Key must be 1–255 visible ASCII characters.".into(),
                    )
                })
        })
        .transpose()
}

/// Every endpoint, newest first, without secrets (admin).
#[utoipa::path(get, path = "/api/cart/admin/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, description = "The endpoints", body = EndpointList),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not an admin", body = Problem)))]
async fn list_endpoints(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<EndpointList>, Error> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(EndpointList {
        items: endpoints::list(&mut conn).await?,
        event_types: EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect(),
    }))
}

/// Registers an endpoint; the answer carries its signing secret. With an `Idempotency-Key`, a
/// retry returns the endpoint the first request made (200 instead of 201).
#[utoipa::path(post, path = "/api/cart/admin/webhooks", tag = "webhooks",
    request_body = CreateEndpoint,
    params(("Idempotency-Key" = Option<String>, Header, description = "Optional; a retry returns the same endpoint")),
    security(("bearer" = [])),
    responses((status = 201, description = "Registered, with its secret", body = Endpoint),
        (status = 200, description = "Registered before under this Idempotency-Key", body = Endpoint),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Bad URL (not https, internal address, unresolvable) or events", body = Problem)))]
async fn create_endpoint(
    State(state): State<AppState>,
    _admin: Admin,
    headers: HeaderMap,
    Json(request): Json<CreateEndpoint>,
) -> Result<Response, Error> {
    let key = optional_key(&headers)?;
    let mut errors = Vec::new();
    let url = validate_url(&request.url, &state.webhooks.settings, &mut errors).await;
    let events = validate_events(&request.events, &mut errors);
    let description = validate_description(request.description.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut conn = state.db.acquire().await?;
    let (endpoint, created) = endpoints::insert(
        &mut conn,
        &NewEndpoint {
            url: &url,
            description: &description,
            events: &events,
            enabled: request.enabled.unwrap_or(true),
            idempotency_key: key.as_ref().map(IdempotencyKey::as_str),
        },
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(endpoint)).into_response())
}

/// One endpoint, with its signing secret (admin).
#[utoipa::path(get, path = "/api/cart/admin/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The endpoint and its secret", body = Endpoint),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint", body = Problem)))]
async fn get_endpoint(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Endpoint>, Error> {
    let id = endpoint_id(&id)?;
    let mut conn = state.db.acquire().await?;
    endpoints::load(&mut conn, id)
        .await?
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("No webhook endpoint {id}.")))
}

/// Changes an endpoint: URL, events, description, enabled; `rotateSecret` issues a new secret.
#[utoipa::path(patch, path = "/api/cart/admin/webhooks/{id}", tag = "webhooks",
    request_body = UpdateEndpoint,
    params(("id" = String, Path, description = "The endpoint id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The endpoint and its secret", body = Endpoint),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint", body = Problem),
        (status = 422, description = "Bad URL or events", body = Problem)))]
async fn update_endpoint(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    Json(request): Json<UpdateEndpoint>,
) -> Result<Json<Endpoint>, Error> {
    let id = endpoint_id(&id)?;
    let mut errors = Vec::new();
    let url = match &request.url {
        Some(url) => Some(validate_url(url, &state.webhooks.settings, &mut errors).await),
        None => None,
    };
    let events = request
        .events
        .as_deref()
        .map(|events| validate_events(events, &mut errors));
    let description = request
        .description
        .as_deref()
        .map(|d| validate_description(Some(d), &mut errors));
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut conn = state.db.acquire().await?;
    endpoints::update(
        &mut conn,
        id,
        &EndpointChange {
            url: url.as_deref(),
            description: description.as_deref(),
            events: events.as_deref(),
            enabled: request.enabled,
            rotate_secret: request.rotate_secret,
        },
    )
    .await?
    .map(Json)
    .ok_or_else(|| Error::NotFound(format!("No webhook endpoint {id}.")))
}

/// Removes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/api/cart/admin/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint", body = Problem)))]
async fn delete_endpoint(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    let id = endpoint_id(&id)?;
    let mut conn = state.db.acquire().await?;
    if endpoints::delete(&mut conn, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound(format!("No webhook endpoint {id}.")))
    }
}

/// The endpoint's deliveries, newest first, with their attempts and last outcome.
#[utoipa::path(get, path = "/api/cart/admin/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id"), DeliveryParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint", body = Problem),
        (status = 422, description = "Bad status, limit or cursor", body = Problem)))]
async fn list_deliveries(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    Query(params): Query<DeliveryParams>,
) -> Result<Json<Page<Delivery>>, Error> {
    let id = endpoint_id(&id)?;
    let limit = page::limit(params.limit)?;
    let before = page::decode_after::<Uuid>(params.cursor.as_deref())?;
    let status = match params.status.as_deref() {
        None => None,
        Some("pending") => Some(DeliveryStatus::Pending),
        Some("succeeded") => Some(DeliveryStatus::Succeeded),
        Some("failed") => Some(DeliveryStatus::Failed),
        Some(_) => {
            return Err(Error::invalid(
                "status",
                "must be pending, succeeded or failed",
            ));
        }
    };
    let mut conn = state.db.acquire().await?;
    if endpoints::load(&mut conn, id).await?.is_none() {
        return Err(Error::NotFound(format!("No webhook endpoint {id}.")));
    }
    let items = deliveries::list(&mut conn, id, status, before, limit + 1).await?;
    Ok(Json(Page::from_rows(items, limit, |d| d.id)))
}

async fn attempt_and_load(state: &AppState, id: Uuid) -> Result<Delivery, Error> {
    let attempted = deliveries::attempt_now(
        &state.db,
        &state.webhooks.http,
        &state.webhooks.settings,
        id,
    )
    .await?;
    if attempted.is_none() {
        return Err(Error::conflict(
            "An attempt of this delivery is in progress; look again in a moment.",
            Vec::new(),
        ));
    }
    let mut conn = state.db.acquire().await?;
    deliveries::load(&mut conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No delivery {id}.")))
}

/// Sends a delivery again now, with the same event id and body, and answers with its outcome.
/// If it fails and attempts remain, the dispatcher keeps retrying it.
#[utoipa::path(post, path = "/api/cart/admin/webhooks/{id}/deliveries/{deliveryId}/replay",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id"),
        ("deliveryId" = String, Path, description = "The delivery id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The delivery after the attempt", body = Delivery),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such delivery of this endpoint", body = Problem),
        (status = 409, description = "An attempt is on the wire right now", body = Problem)))]
async fn replay_delivery(
    State(state): State<AppState>,
    _admin: Admin,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Json<Delivery>, Error> {
    let endpoint = endpoint_id(&id)?;
    let delivery = delivery_id(&delivery)?;
    let mut conn = state.db.acquire().await?;
    match deliveries::load(&mut conn, delivery).await? {
        Some(found) if found.endpoint_id == endpoint => {}
        _ => return Err(Error::NotFound(format!("No delivery {delivery}."))),
    }
    drop(conn);
    deliveries::schedule_now(&state.db, delivery).await?;
    attempt_and_load(&state, delivery).await.map(Json)
}

/// Sends a `ping` event to the endpoint now and answers with the delivery.
#[utoipa::path(post, path = "/api/cart/admin/webhooks/{id}/ping", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id")),
    security(("bearer" = [])),
    responses((status = 201, description = "The ping's delivery after its first attempt", body = Delivery),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint", body = Problem)))]
async fn ping_endpoint(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let endpoint = endpoint_id(&id)?;
    let mut conn = state.db.acquire().await?;
    if endpoints::load(&mut conn, endpoint).await?.is_none() {
        return Err(Error::NotFound(format!("No webhook endpoint {endpoint}.")));
    }
    let event = Uuid::now_v7();
    let body = deliveries::event_body(
        event,
        "ping",
        chrono::Utc::now(),
        &serde_json::json!({ "endpointId": endpoint, "requestedBy": admin.0.user_id }),
    );
    let delivery = deliveries::enqueue_to(&mut conn, endpoint, event, "ping", &body).await?;
    drop(conn);
    let delivery = attempt_and_load(&state, delivery).await?;
    Ok((StatusCode::CREATED, Json(delivery)).into_response())
}

/// Starts the loops: order events → deliveries (its own Redis connection, since a blocking
/// read would hold up the shared one), the catalog follower, and the dispatcher.
pub fn spawn(state: &AppState, redis_url: &str, shutdown: &Shutdown) {
    let settings = state.webhooks.settings;
    tokio::spawn(run_order_events(
        state.clone(),
        redis_url.to_owned(),
        shutdown.clone(),
    ));
    if settings.follow_catalog {
        tokio::spawn(run_catalog_follower(state.clone(), shutdown.clone()));
    }
    tokio::spawn(run_dispatcher(state.clone(), shutdown.clone()));
}

async fn run_order_events(state: AppState, redis_url: String, shutdown: Shutdown) {
    let consumer_name = format!("cart-{}", Uuid::new_v4().simple());
    let mut consumer = None;
    loop {
        if consumer.is_none() {
            match redis::Client::open(redis_url.as_str()) {
                Ok(client) => match redis::aio::ConnectionManager::new(client).await {
                    Ok(redis) => {
                        let mut own = state.clone();
                        own.redis = redis;
                        consumer = Some(sources::order_consumer(&own, &consumer_name));
                    }
                    Err(error) => tracing::warn!(%error, "webhooks: redis unavailable"),
                },
                Err(error) => tracing::warn!(%error, "webhooks: bad redis url"),
            }
        }
        if let Some(consumer) = consumer.as_mut()
            && let Err(error) =
                sources::queue_order_events_once(&state, consumer, Duration::from_secs(1)).await
        {
            tracing::warn!(%error, "webhooks: queueing order events failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if consumer.is_none() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if shutdown.is_triggered() {
            return;
        }
    }
}

async fn run_catalog_follower(state: AppState, shutdown: Shutdown) {
    let every = Duration::from_secs(2);
    loop {
        let queued = match sources::follow_catalog_once(&state).await {
            Ok(n) => n,
            Err(error) => {
                tracing::debug!(%error, "webhooks: following the catalog failed");
                0
            }
        };
        if queued == 0 {
            tokio::select! {
                () = shutdown.wait() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}

async fn run_dispatcher(state: AppState, shutdown: Shutdown) {
    loop {
        let sent = match deliveries::dispatch_once(
            &state.db,
            &state.webhooks.http,
            &state.webhooks.settings,
            20,
        )
        .await
        {
            Ok(n) => n,
            Err(error) => {
                tracing::warn!(%error, "webhooks: dispatching failed");
                0
            }
        };
        if sent == 0 {
            tokio::select! {
                () = shutdown.wait() => return,
                () = tokio::time::sleep(state.webhooks.settings.dispatch_every) => {}
            }
        }
    }
}
