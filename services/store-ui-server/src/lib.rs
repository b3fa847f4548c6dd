//! Serves the store UI's built files (`vite build` output) inside its container.
//!
//! Hashed files under `assets/` never change under the same name, so they are cached for a year
//! (`immutable`); everything else (`index.html`, icons) is revalidated on every visit so a new
//! release shows at once. Precompressed `.br`/`.gz` siblings are sent to clients that accept them,
//! and any path that is not a file answers `index.html` so client-side routes survive a reload.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use http::{HeaderValue, header};
use storefront_kit::{ConfigError, Env, Readiness, ServerConfig, Service};
use tower_http::services::{ServeDir, ServeFile};

/// `Cache-Control` of fingerprinted assets.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else.
const REVALIDATE: &str = "no-cache";

/// `STORE_UI_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    /// `STORE_UI_DIR`: the built UI (default `/srv/store-ui`).
    pub dir: PathBuf,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(env)?,
            dir: env.optional("DIR", PathBuf::from("/srv/store-ui"))?,
        })
    }
}

/// The served application: the files, plus readiness that holds until `index.html` is readable.
pub fn service(config: &Config) -> Service {
    let index = config.dir.join("index.html");
    let assets = ServeDir::new(&config.dir)
        .precompressed_br()
        .precompressed_gzip();
    // A missing hashed asset is a 404, never the index under a year-long cache.
    let pages = assets.clone().fallback(
        ServeFile::new(&index)
            .precompressed_br()
            .precompressed_gzip(),
    );
    let routes = Router::new()
        .route_service("/assets/{*path}", assets)
        .route_service("/", pages.clone())
        .route_service("/{*path}", pages)
        .layer(middleware::from_fn(cache_control));
    let readiness = Readiness::new().with_check("assets", move || {
        let index = index.clone();
        async move { index_readable(&index).await }
    });
    Service::new("store-ui", routes).readiness(readiness)
}

async fn index_readable(index: &Path) -> Result<(), String> {
    tokio::fs::metadata(index)
        .await
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", index.display()))
}

/// Sets `Cache-Control`, and keeps file dates out of caching: images are reproducible, so every
/// file is dated 1970 and a date would let a browser keep last release's `index.html`.
async fn cache_control(mut request: Request, next: Next) -> Response {
    let immutable = request.uri().path().starts_with("/assets/");
    request.headers_mut().remove(header::IF_MODIFIED_SINCE);
    request.headers_mut().remove(header::IF_UNMODIFIED_SINCE);
    let mut response = next.run(request).await;
    response.headers_mut().remove(header::LAST_MODIFIED);
    let value = if immutable && response.status().is_success() {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::StatusCode;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    struct Site {
        dir: PathBuf,
    }

    impl Site {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("store-ui-server-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("assets")).unwrap();
            std::fs::write(dir.join("index.html"), "<html>shop</html>").unwrap();
            std::fs::write(dir.join("assets/app-1a2b.js"), "console.log(1)").unwrap();
            std::fs::write(dir.join("assets/app-1a2b.js.br"), "BROTLI").unwrap();
            std::fs::write(dir.join("assets/app-1a2b.js.gz"), "GZIP").unwrap();
            Site { dir }
        }

        fn router(&self) -> Router {
            let config = Config {
                server: ServerConfig::from_env(&Env::from_map("STORE_UI", [("X", "y")])).unwrap(),
                dir: self.dir.clone(),
            };
            service(&config).into_router(&config.server)
        }

        async fn get(
            &self,
            path: &str,
            encoding: Option<&str>,
        ) -> (StatusCode, http::HeaderMap, String) {
            let mut request = Request::builder().uri(path);
            if let Some(encoding) = encoding {
                request = request.header(header::ACCEPT_ENCODING, encoding);
            }
            let response = self
                .router()
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, headers, String::from_utf8_lossy(&body).into_owned())
        }
    }

    impl Drop for Site {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[tokio::test]
    async fn hashed_assets_are_immutable_and_precompressed() {
        let site = Site::new("assets");
        let (status, headers, body) = site.get("/assets/app-1a2b.js", Some("br, gzip")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CACHE_CONTROL], IMMUTABLE);
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        assert_eq!(body, "BROTLI");

        let (_, headers, body) = site.get("/assets/app-1a2b.js", Some("gzip")).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        assert_eq!(body, "GZIP");

        let (_, headers, body) = site.get("/assets/app-1a2b.js", None).await;
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body, "console.log(1)");
    }

    #[tokio::test]
    async fn client_routes_fall_back_to_the_revalidated_index() {
        let site = Site::new("spa");
        for path in ["/", "/products/42", "/account"] {
            let (status, headers, body) = site.get(path, None).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(headers[header::CACHE_CONTROL], REVALIDATE, "{path}");
            assert_eq!(body, "<html>shop</html>", "{path}");
        }
    }

    #[tokio::test]
    async fn a_new_index_is_never_hidden_behind_a_file_date() {
        let site = Site::new("dates");
        let response = site
            .router()
            .oneshot(
                Request::builder()
                    .uri("/")
                    .header(header::IF_MODIFIED_SINCE, "Thu, 01 Jan 2099 00:00:00 GMT")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get(header::LAST_MODIFIED).is_none());
    }

    #[tokio::test]
    async fn a_missing_asset_is_not_cached_for_a_year() {
        let site = Site::new("missing");
        let (status, headers, _) = site.get("/assets/gone-0000.js", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers[header::CACHE_CONTROL], REVALIDATE);
    }

    #[tokio::test]
    async fn ready_only_while_the_index_is_there() {
        let site = Site::new("ready");
        let (status, _, _) = site.get("/readyz", None).await;
        assert_eq!(status, StatusCode::OK);
        std::fs::remove_file(site.dir.join("index.html")).unwrap();
        let (status, _, _) = site.get("/readyz", None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, _, _) = site.get("/healthz", None).await;
        assert_eq!(status, StatusCode::OK);
    }
}
