//! The answer of an idempotent create-or-replace (`PUT`) of an admin rule.

use http::StatusCode;
use storefront_kit::Json;

/// 201 when the `PUT` created the resource, 200 when it replaced it; the resource as the body.
pub fn answer<T>(created: bool, resource: T) -> (StatusCode, Json<T>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(resource))
}
