//! Identifiers and versions: opaque strings checked once at the edge, so the rest of the code
//! never sees an id that could smuggle a query operator or a path into a store.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Whether `value` is a plausible opaque identifier: 1–64 of `[A-Za-z0-9_-]`.
fn is_token(value: &str, max: usize, extra: &[char]) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(&c))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal, [$($extra:literal),*]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, Error> {
                if is_token(value, $max, &[$($extra),*]) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(Error::NotFound(format!("No {} {value:?}.", $what)))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A product (UUIDv7 text when created here).
    ProductId, "product", 64, []
);
id_type!(
    /// A category (UUIDv7 text when created here).
    CategoryId, "category", 64, []
);
id_type!(
    /// A stock-keeping unit, unique across the store.
    Sku, "SKU", 64, ['.']
);
id_type!(
    /// An order of the cart service: the key of a reservation.
    OrderId, "order", 128, ['.', ':']
);

impl ProductId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// A time-ordered id fixed by `millis` and `entropy`, for reproducible seed data.
    pub fn deterministic(millis: u64, entropy: [u8; 10]) -> Self {
        Self(
            uuid::Builder::from_unix_timestamp_millis(millis, &entropy)
                .into_uuid()
                .to_string(),
        )
    }
}

impl CategoryId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn deterministic(millis: u64, entropy: [u8; 10]) -> Self {
        Self(
            uuid::Builder::from_unix_timestamp_millis(millis, &entropy)
                .into_uuid()
                .to_string(),
        )
    }
}

impl Sku {
    /// Like [`Sku::parse`], but as a field error of client input.
    pub fn validate(value: &str) -> Result<Self, String> {
        if is_token(value, 64, &['.']) {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be 1–64 letters, digits, '-', '_' or '.'".to_owned())
        }
    }
}

impl OrderId {
    pub fn validate(value: &str) -> Result<Self, String> {
        if is_token(value, 128, &['.', ':']) {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be 1–128 letters, digits, '-', '_', '.' or ':'".to_owned())
        }
    }
}

/// A slug: lowercase words of letters and digits joined by single hyphens, at most 100 long.
pub fn validate_slug(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(
            "must be lowercase letters and digits in words joined by single hyphens (at most 100)"
                .to_owned(),
        )
    }
}

/// The version of a product or category: starts at 1, bumped by every write. Served as the
/// strong ETag `"<n>"`; `If-Match` must name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(pub i64);

impl Version {
    pub fn etag(self) -> String {
        format!("\"{}\"", self.0)
    }

    pub fn next(self) -> Result<Self, Error> {
        self.0
            .checked_add(1)
            .map(Self)
            .ok_or_else(|| Error::Internal("version overflow".into()))
    }
}

/// The `If-Match` precondition of a write, if the client sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    pub fn from_headers(headers: &http::HeaderMap) -> Result<Option<Self>, Error> {
        let Some(value) = headers.get(http::header::IF_MATCH) else {
            return Ok(None);
        };
        let value = value
            .to_str()
            .map_err(|_| Error::BadRequest("If-Match is not valid text.".into()))?;
        if value.trim() == "*" {
            return Ok(Some(Self::Any));
        }
        // Strong comparison (RFC 9110 §13.1.1): weak tags never match; unparsable ones neither.
        let versions = value
            .split(',')
            .filter_map(|tag| {
                let tag = tag.trim();
                tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
            })
            .collect();
        Ok(Some(Self::Versions(versions)))
    }

    /// `Ok` when a write on `current` may proceed.
    pub fn check(condition: Option<&Self>, current: Version) -> Result<(), Error> {
        match condition {
            None | Some(Self::Any) => Ok(()),
            Some(Self::Versions(v)) if v.contains(&current.0) => Ok(()),
            Some(Self::Versions(_)) => Err(Error::VersionMismatch { current: current.0 }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_operators_and_paths() {
        for bad in [
            "",
            "$ne",
            "a/b",
            "../x",
            "{\"$gt\":\"\"}",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(ProductId::parse(bad).is_err(), "{bad}");
        }
        assert!(ProductId::parse("0190c1a2-7b3c-7def-8000-000000000001").is_ok());
        assert!(Sku::validate("TEE-RED.M").is_ok());
    }

    #[test]
    fn slugs_are_lowercase_hyphenated_words() {
        assert!(validate_slug("red-tee-2").is_ok());
        for bad in ["", "Red", "a--b", "-a", "a-", "a_b", "a.b"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn if_match_compares_strong_tags() {
        let headers = |v: &str| {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::IF_MATCH, v.parse().unwrap());
            h
        };
        let v3 = Version(3);
        let check =
            |v: &str| IfMatch::check(IfMatch::from_headers(&headers(v)).unwrap().as_ref(), v3);
        assert!(check("\"3\"").is_ok());
        assert!(check("\"2\", \"3\"").is_ok());
        assert!(check("*").is_ok());
        assert!(matches!(
            check("\"2\""),
            Err(Error::VersionMismatch { current: 3 })
        ));
        assert!(check("W/\"3\"").is_err());
        assert!(check("3").is_err());
        assert!(IfMatch::check(None, v3).is_ok());
        assert_eq!(v3.etag(), "\"3\"");
    }
}
