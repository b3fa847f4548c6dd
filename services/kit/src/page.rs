//! Cursor pagination for every list endpoint: a bounded `limit` and an opaque cursor (base64url
//! JSON of the last item's sort key), so pages stay stable while items are added.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::FieldError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// `{"items": [...], "nextCursor": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// From up to `limit + 1` rows fetched in key order: the first `limit` and, when there was one
    /// more, a cursor naming the last row served.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// `?limit=&cursor=`, for lists that take nothing else.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 20.
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u32, FieldError> {
        limit(self.limit)
    }

    /// The key to continue after, if a cursor was given.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, FieldError> {
        decode_after(self.cursor.as_deref())
    }
}

/// The `limit` parameter: default 20, 1–100.
pub fn limit(requested: Option<u32>) -> Result<u32, FieldError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    // Serialising a sort key (strings, numbers, ids) cannot fail; an empty cursor would only
    // restart the list.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// A cursor this API issued, back to its key; anything else is a field error on `cursor`.
pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K, FieldError> {
    let invalid = || FieldError::new("cursor", "is not a cursor this API issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// The optional `cursor` parameter of a list, back to its key.
pub fn decode_after<K: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<K>, FieldError> {
    cursor.map(decode_cursor).transpose()
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
        for bad in ["%%%", "eyJ4IjoxfQ", "{\"$gt\":\"\"}", ""] {
            let error = decode_cursor::<Key>(bad).unwrap_err();
            assert_eq!(error.field, "cursor", "{bad}");
        }
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(1)).unwrap(), 1);
        assert_eq!(limit(Some(MAX_LIMIT)).unwrap(), MAX_LIMIT);
        assert_eq!(limit(Some(0)).unwrap_err().field, "limit");
        assert_eq!(limit(Some(MAX_LIMIT + 1)).unwrap_err().field, "limit");
    }

    #[test]
    fn a_page_names_its_last_row_only_when_more_remain() {
        let full = Page::from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(full.items, vec![1, 2]);
        let next = full.next_cursor.expect("a next page");
        assert_eq!(decode_cursor::<i32>(&next).unwrap(), 2);

        let last = Page::from_rows(vec![1, 2], 2, |n| *n);
        assert_eq!(last.items, vec![1, 2]);
        assert!(last.next_cursor.is_none());
        let json = serde_json::to_value(&last).unwrap();
        assert_eq!(json["nextCursor"], serde_json::Value::Null);
    }

    #[test]
    fn query_parses_limit_and_cursor() {
        let query = PageQuery {
            limit: Some(5),
            cursor: Some(encode_cursor(&"abc")),
        };
        assert_eq!(query.limit().unwrap(), 5);
        assert_eq!(query.after::<String>().unwrap().as_deref(), Some("abc"));
        assert_eq!(PageQuery::default().after::<String>().unwrap(), None);
    }
}
