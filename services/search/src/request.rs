//! Search parameters as the API accepts them, checked before anything reaches the engine: bounded
//! lengths and counts, known sort names, well-formed cursors. Text is only ever sent as the text of
//! a match query (never as query DSL or query-string syntax), so no character can widen a query.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use storefront_kit::{FieldError, Problem};

pub const MAX_TEXT_CHARS: usize = 200;
pub const MAX_VALUES_PER_FILTER: usize = 20;
pub const MAX_ATTRIBUTE_FILTERS: usize = 10;
pub const MAX_FILTER_VALUE_CHARS: usize = 100;
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
}

impl Sort {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "relevance" => Some(Self::Relevance),
            "price_asc" => Some(Self::PriceAsc),
            "price_desc" => Some(Self::PriceDesc),
            "newest" => Some(Self::Newest),
            _ => None,
        }
    }
}

/// Where the next page starts: the sort values of the last hit, tied to the sort that made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: Sort,
    #[serde(rename = "v")]
    pub after: Vec<serde_json::Value>,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        let scalar = |v: &serde_json::Value| v.is_number() || v.is_string();
        (cursor.after.len() == 2 && cursor.after.iter().all(scalar)).then_some(cursor)
    }
}

/// A validated `GET /api/search` request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchRequest {
    pub text: Option<String>,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub in_stock: Option<bool>,
    /// Attribute name → accepted values (OR within a name, AND across names).
    pub attributes: BTreeMap<String, Vec<String>>,
    pub sort: Sort,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

impl SearchRequest {
    /// Parses query-string pairs; repeated keys (`brand=a&brand=b`) select several values.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Problem> {
        let mut request = SearchRequest {
            limit: DEFAULT_LIMIT,
            ..Default::default()
        };
        let mut errors = Vec::new();
        let mut sort_given = None;
        let mut cursor_text = None;
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "q" => match check_text(value) {
                    Ok(text) => request.text = text,
                    Err(message) => errors.push(FieldError::new("q", message)),
                },
                "category" => push_value(&mut request.categories, "category", value, &mut errors),
                "brand" => push_value(&mut request.brands, "brand", value, &mut errors),
                "price_min" => request.price_min = parse_amount("price_min", value, &mut errors),
                "price_max" => request.price_max = parse_amount("price_max", value, &mut errors),
                "in_stock" => match value {
                    "true" | "1" => request.in_stock = Some(true),
                    "false" | "0" => request.in_stock = Some(false),
                    _ => errors.push(FieldError::new("in_stock", "must be true or false")),
                },
                "sort" => match Sort::parse(value) {
                    Some(sort) => sort_given = Some(sort),
                    None => errors.push(FieldError::new(
                        "sort",
                        "must be one of relevance, price_asc, price_desc, newest",
                    )),
                },
                "limit" => match value.parse::<usize>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => request.limit = n,
                    _ => errors.push(FieldError::new(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )),
                },
                "cursor" => cursor_text = Some(value.to_owned()),
                other => match other.strip_prefix("attr.") {
                    Some(name) if is_attribute_name(name) => {
                        let values = request.attributes.entry(name.to_owned()).or_default();
                        push_value(values, other, value, &mut errors);
                    }
                    Some(_) => errors.push(FieldError::new(
                        other,
                        "attribute names are 1-40 characters: letters, digits, '-' or '_'",
                    )),
                    None => errors.push(FieldError::new(other, "is not a search parameter")),
                },
            }
        }
        request.sort = sort_given.unwrap_or_default();
        if request.attributes.len() > MAX_ATTRIBUTE_FILTERS {
            errors.push(FieldError::new(
                "attr",
                format!("at most {MAX_ATTRIBUTE_FILTERS} attributes can be filtered at once"),
            ));
        }
        if let (Some(min), Some(max)) = (request.price_min, request.price_max)
            && min > max
        {
            errors.push(FieldError::new("price_min", "must not exceed price_max"));
        }
        if let Some(text) = cursor_text {
            match Cursor::decode(&text) {
                Some(cursor) if cursor.sort == request.sort => request.cursor = Some(cursor),
                Some(_) => errors.push(FieldError::new(
                    "cursor",
                    "was made for another sort order; start again without it",
                )),
                None => errors.push(FieldError::new("cursor", "is not a cursor this API issued")),
            }
        }
        if errors.is_empty() {
            Ok(request)
        } else {
            Err(invalid(errors))
        }
    }
}

/// Parameters the client got wrong: 400, one entry per parameter.
pub fn invalid(errors: Vec<FieldError>) -> Problem {
    let detail = match errors.as_slice() {
        [one] => format!("{}: {}", one.field, one.message),
        many => format!("{} parameters are not valid.", many.len()),
    };
    Problem::new(
        http::StatusCode::BAD_REQUEST,
        "invalid-parameters",
        "Invalid parameters",
    )
    .with_detail(detail)
    .with_errors(errors)
}

/// Search text: trimmed, at most [`MAX_TEXT_CHARS`], no control characters; empty means none.
pub fn check_text(value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("must be at most {MAX_TEXT_CHARS} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

fn push_value(list: &mut Vec<String>, field: &str, value: &str, errors: &mut Vec<FieldError>) {
    if value.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if value.chars().count() > MAX_FILTER_VALUE_CHARS || value.chars().any(char::is_control)
    {
        errors.push(FieldError::new(
            field,
            format!("values are at most {MAX_FILTER_VALUE_CHARS} printable characters"),
        ));
    } else if list.len() >= MAX_VALUES_PER_FILTER {
        if list.len() == MAX_VALUES_PER_FILTER {
            errors.push(FieldError::new(
                field,
                format!("at most {MAX_VALUES_PER_FILTER} values"),
            ));
            list.push(String::new());
        }
    } else if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

fn parse_amount(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    match value.parse::<i64>() {
        Ok(n) if (0..=1_000_000_000_000).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::new(
                field,
                "must be a non-negative whole amount in minor units (cents)",
            ));
            None
        }
    }
}

fn is_attribute_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn full_request_is_parsed() {
        let request = SearchRequest::parse(&pairs(&[
            ("q", "  red shoes "),
            ("brand", "Acme"),
            ("brand", "Zed"),
            ("brand", "Acme"),
            ("category", "c1"),
            ("price_min", "1000"),
            ("price_max", "5000"),
            ("in_stock", "true"),
            ("attr.color", "red"),
            ("attr.size", "42"),
            ("sort", "price_asc"),
            ("limit", "50"),
        ]))
        .unwrap();
        assert_eq!(request.text.as_deref(), Some("red shoes"));
        assert_eq!(request.brands, vec!["Acme", "Zed"], "duplicates dropped");
        assert_eq!(request.attributes["color"], vec!["red"]);
        assert_eq!(request.sort, Sort::PriceAsc);
        assert_eq!(request.limit, 50);
        assert_eq!(request.in_stock, Some(true));
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let problem = SearchRequest::parse(&pairs(&[
            ("q", &"x".repeat(201)),
            ("limit", "1000"),
            ("sort", "cheapest"),
            ("price_min", "-5"),
            ("attr.col{or}", "red"),
            ("unknown", "1"),
        ]))
        .unwrap_err();
        assert_eq!(problem.status, 400);
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["q", "limit", "sort", "price_min", "attr.col{or}", "unknown"]
        );
    }

    #[test]
    fn inverted_price_range_is_rejected() {
        let problem = SearchRequest::parse(&pairs(&[("price_min", "500"), ("price_max", "100")]))
            .unwrap_err();
        assert_eq!(problem.errors[0].field, "price_min");
    }

    #[test]
    fn query_syntax_characters_are_kept_as_plain_text() {
        let request =
            SearchRequest::parse(&pairs(&[("q", r#"shoes" OR *:* AND {"match_all":{}}"#)]))
                .unwrap();
        assert_eq!(
            request.text.as_deref(),
            Some(r#"shoes" OR *:* AND {"match_all":{}}"#)
        );
    }

    #[test]
    fn too_many_values_for_one_filter_is_rejected_once() {
        let many: Vec<(String, String)> = (0..25)
            .map(|i| ("brand".to_owned(), format!("b{i}")))
            .collect();
        let problem = SearchRequest::parse(&many).unwrap_err();
        assert_eq!(problem.errors.len(), 1);
    }

    #[test]
    fn cursor_round_trips_and_is_tied_to_its_sort() {
        let cursor = Cursor {
            sort: Sort::Newest,
            after: vec![
                serde_json::json!(1_700_000_000_000_i64),
                serde_json::json!("p-9"),
            ],
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text), Some(cursor));
        let ok = SearchRequest::parse(&pairs(&[("sort", "newest"), ("cursor", &text)])).unwrap();
        assert!(ok.cursor.is_some());
        let wrong = SearchRequest::parse(&pairs(&[("cursor", &text)])).unwrap_err();
        assert_eq!(wrong.errors[0].field, "cursor");
        let junk = SearchRequest::parse(&pairs(&[("cursor", "bm90IGEgY3Vyc29y")])).unwrap_err();
        assert_eq!(junk.errors[0].field, "cursor");
    }
}
