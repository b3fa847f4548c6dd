//! Cursor pagination: a bounded `limit` and an opaque cursor (the last order id, base64url).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::OrderId;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// `{"items": [...], "nextCursor": ...}`; `nextCursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

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

pub fn encode_cursor(last: &OrderId) -> String {
    URL_SAFE_NO_PAD.encode(last.to_string())
}

pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<OrderId>, Error> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let invalid = || Error::invalid("cursor", "is not a cursor this API issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    OrderId::parse(&text).map(Some).ok_or_else(invalid)
}

/// Items fetched with `limit + 1`: the page and, when there was one more, the next cursor.
pub fn page<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> OrderId) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|last| encode_cursor(&id(last)))
    } else {
        None
    };
    Page { items, next_cursor }
}

/// The cursor of lists keyed by a text id (pricing rules): the last id, base64url.
pub fn decode_text_cursor(cursor: Option<&str>) -> Result<Option<String>, Error> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let invalid = || Error::invalid("cursor", "is not a cursor this API issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    String::from_utf8(bytes).map(Some).map_err(|_| invalid())
}

/// Like [`page`], for items keyed by a text id.
pub fn page_by_text<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> &str) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|last| URL_SAFE_NO_PAD.encode(id(last)))
    } else {
        None
    };
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_field_error() {
        let id = OrderId::generate();
        assert_eq!(decode_cursor(Some(&encode_cursor(&id))).unwrap(), Some(id));
        assert!(matches!(decode_cursor(Some("!!")), Err(Error::Invalid(_))));
        assert!(matches!(
            decode_cursor(Some("aGVsbG8")),
            Err(Error::Invalid(_))
        ));
        assert!(limit(Some(0)).is_err() && limit(Some(101)).is_err());
        assert_eq!(limit(None).unwrap(), 20);
    }
}
