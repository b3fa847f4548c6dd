//! Optimistic concurrency for updates: resources carry a `version`, sent as a strong `ETag`;
//! an update with `If-Match` applies only if the version still matches (else 412).

use axum::extract::FromRequestParts;
use http::header::{ETAG, IF_MATCH};
use http::request::Parts;
use http::{HeaderName, HeaderValue};
use storefront_kit::Problem;

/// The `ETag` header for a resource version.
pub fn etag(version: i64) -> [(HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    [(ETAG, value)]
}

/// The `If-Match` precondition of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// No header, or `*`: update whatever the current version is.
    Any,
    /// Update only if the current version is this one.
    Version(i64),
    /// A tag we never issued: no version can match.
    Never,
}

impl IfMatch {
    /// The version an update must find, for a SQL guard `($n IS NULL OR version = $n)`;
    /// `Never` maps to an impossible version.
    pub fn expected(self) -> Option<i64> {
        match self {
            IfMatch::Any => None,
            IfMatch::Version(version) => Some(version),
            IfMatch::Never => Some(-1),
        }
    }

    fn parse(value: &str) -> Self {
        let value = value.trim();
        if value == "*" {
            return IfMatch::Any;
        }
        // A list of tags is legal; we only ever issue one, so the first decides.
        let first = value.split(',').next().unwrap_or_default().trim();
        first
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .and_then(|v| v.parse().ok())
            .map_or(IfMatch::Never, IfMatch::Version)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(IF_MATCH) {
            None => Ok(IfMatch::Any),
            Some(value) => value
                .to_str()
                .map(IfMatch::parse)
                .map_err(|_| Problem::bad_request("The If-Match header is not valid.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_values_are_understood() {
        assert_eq!(IfMatch::parse("*"), IfMatch::Any);
        assert_eq!(IfMatch::parse("\"3\""), IfMatch::Version(3));
        assert_eq!(IfMatch::parse(" \"12\", \"13\""), IfMatch::Version(12));
        assert_eq!(
            IfMatch::parse("W/\"3\""),
            IfMatch::Never,
            "weak tags never match"
        );
        assert_eq!(IfMatch::parse("\"abc\""), IfMatch::Never);
        assert_eq!(IfMatch::Never.expected(), Some(-1));
    }
}
