//! Cursor pagination shared by the list endpoints: a bounded `limit` and an opaque cursor
//! (base64url JSON of the last item's sort key), so pages stay stable while items are added.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Error;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// `{"items": [...], "nextCursor": ...}`; `nextCursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The `limit` parameter: default 20, 1–100.
pub fn limit(requested: Option<u32>) -> Result<u32, Error> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

pub fn encode_cursor<T: Serialize>(key: &T) -> String {
    // Serialising our own key types cannot fail; an empty cursor would just restart the list.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor<T: DeserializeOwned>(cursor: &str) -> Result<T, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| Error::invalid("cursor", "is not a cursor this API issued"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| Error::invalid("cursor", "is not a cursor this API issued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Key {
        price: i64,
        id: String,
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_a_field_error() {
        let key = Key {
            price: 1999,
            id: "p-1".into(),
        };
        let cursor = encode_cursor(&key);
        assert_eq!(decode_cursor::<Key>(&cursor).unwrap(), key);
        for bad in ["%%%", "eyJ4IjoxfQ", "{\"$gt\":\"\"}"] {
            assert!(
                matches!(decode_cursor::<Key>(bad), Err(Error::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(limit(None).unwrap(), 20);
        assert_eq!(limit(Some(100)).unwrap(), 100);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(101)).is_err());
    }
}
