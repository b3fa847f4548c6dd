//! Request extractors whose rejections are problem+json: no axum plain-text error ever reaches a client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::problem::Problem;

/// A JSON body (`Content-Type: application/json`). Rejections: 415 for another content type,
/// 413 beyond the body limit, 400 for malformed JSON or a body of the wrong shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => Problem::unsupported_media_type(
            "Expected a JSON body with `Content-Type: application/json`.",
        ),
        JsonRejection::JsonSyntaxError(error) => {
            Problem::bad_request(format!("The body is not valid JSON: {}", error.body_text()))
        }
        JsonRejection::JsonDataError(error) => Problem::bad_request(format!(
            "The JSON body does not have the expected shape: {}",
            error.body_text()
        )),
        JsonRejection::BytesRejection(error)
            if error.status() == http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            Problem::payload_too_large("The request body is larger than this endpoint accepts.")
        }
        other => Problem::bad_request(format!(
            "The request body could not be read: {}",
            other.body_text()
        )),
    }
}

/// A JSON body that also passes its `validator` rules; broken rules answer 422 with one entry per field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        value.validate()?;
        Ok(ValidJson(value))
    }
}

/// Query-string parameters; a bad parameter answers 400 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(error)) => Err(
                Problem::bad_request(format!("Invalid query parameters: {}", error.body_text())),
            ),
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

/// Path parameters; a segment of the wrong type answers 400 (the route itself matched).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => Err(Problem::bad_request(
                format!("Invalid path parameter: {}", error.body_text()),
            )),
            Err(other) => {
                tracing::error!(error = %other.body_text(), "path extraction misconfigured");
                Err(Problem::internal())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use axum::routing::{get, post};
    use http::{StatusCode, header};
    use http_body_util::BodyExt;
    use serde::Deserialize;
    use tower::ServiceExt;

    #[derive(Debug, Deserialize, Serialize, Validate)]
    struct NewProduct {
        #[validate(length(min = 1, max = 10))]
        title: String,
        price: u32,
    }

    #[derive(Debug, Deserialize)]
    struct Page {
        limit: u8,
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/json",
                post(|Json(p): Json<NewProduct>| async move { Json(p) }),
            )
            .route(
                "/valid",
                post(|ValidJson(p): ValidJson<NewProduct>| async move { Json(p) }),
            )
            .route(
                "/query",
                get(|Query(p): Query<Page>| async move { p.limit.to_string() }),
            )
            .route(
                "/items/{id}",
                get(|Path(id): Path<u64>| async move { id.to_string() }),
            )
            .layer(DefaultBodyLimit::max(64))
    }

    async fn send(req: http::Request<Body>) -> (StatusCode, String, serde_json::Value) {
        let response = app().oneshot(req).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, content_type, body)
    }

    fn post_json(uri: &str, content_type: &str, body: &str) -> http::Request<Body> {
        http::Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    #[tokio::test]
    async fn well_formed_json_is_accepted() {
        let (status, _, body) = send(post_json(
            "/json",
            "application/json",
            r#"{"title":"Mug","price":1299}"#,
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["price"], 1299);
    }

    #[tokio::test]
    async fn malformed_json_is_a_400_problem() {
        let (status, content_type, body) =
            send(post_json("/json", "application/json", r#"{"title": "#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(content_type, "application/problem+json");
        assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));
    }

    #[tokio::test]
    async fn missing_field_is_a_400_naming_the_field() {
        let (status, _, body) =
            send(post_json("/json", "application/json", r#"{"title":"Mug"}"#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["detail"].as_str().unwrap().contains("price"), "{body}");
    }

    #[tokio::test]
    async fn wrong_content_type_is_a_415_problem() {
        let (status, content_type, _) = send(post_json("/json", "text/plain", "{}")).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(content_type, "application/problem+json");
    }

    #[tokio::test]
    async fn oversized_body_is_a_413_problem() {
        let big = format!(r#"{{"title":"{}","price":1}}"#, "x".repeat(200));
        let (status, content_type, _) = send(post_json("/json", "application/json", &big)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(content_type, "application/problem+json");
    }

    #[tokio::test]
    async fn broken_validation_rule_is_a_422_with_field_errors() {
        let (status, _, body) = send(post_json(
            "/valid",
            "application/json",
            r#"{"title":"far too long a title","price":1}"#,
        ))
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "title");
    }

    #[tokio::test]
    async fn bad_query_and_path_parameters_are_400_problems() {
        let req = http::Request::get("/query?limit=many")
            .body(Body::empty())
            .unwrap();
        let (status, content_type, body) = send(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(content_type, "application/problem+json");
        assert!(body["detail"].as_str().unwrap().contains("limit"), "{body}");

        let req = http::Request::get("/items/abc")
            .body(Body::empty())
            .unwrap();
        let (status, _, _) = send(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}
