//! Engine answers turned into the API's pages: hits with highlights, a next-page cursor, and
//! facet counts that mark what the shopper selected.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::query::{ATTRIBUTE_FACET_PREFIX, PRICE_RANGES};
use crate::request::{Cursor, SearchRequest};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    pub id: String,
    pub slug: Option<String>,
    pub title: Option<String>,
    pub brand: Option<String>,
    /// The lowest variant price.
    pub price: Option<Money>,
    pub in_stock: bool,
    pub image: Option<String>,
    /// Matched fragments, HTML-escaped, with matches in `<mark>`.
    pub highlights: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceBucket {
    pub key: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    pub category: Vec<FacetValue>,
    pub brand: Vec<FacetValue>,
    pub price: Vec<PriceBucket>,
    pub in_stock: Vec<FacetValue>,
    pub attributes: BTreeMap<String, Vec<FacetValue>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub items: Vec<Hit>,
    pub total: u64,
    pub next_cursor: Option<String>,
    pub facets: Facets,
}

/// Reads a search answer made by [`crate::query::search_body`] for `request`.
pub fn search_page(request: &SearchRequest, answer: &Value) -> SearchPage {
    let hits = answer["hits"]["hits"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let has_more = hits.len() > request.limit;
    let page: Vec<&Value> = hits.iter().take(request.limit).collect();
    let next_cursor = if has_more {
        page.last()
            .and_then(|hit| hit["sort"].as_array())
            .map(|after| {
                Cursor {
                    sort: request.sort,
                    after: after.clone(),
                }
                .encode()
            })
    } else {
        None
    };
    SearchPage {
        items: page.into_iter().map(hit).collect(),
        total: answer["hits"]["total"]["value"].as_u64().unwrap_or(0),
        next_cursor,
        facets: facets(request, &answer["aggregations"]),
    }
}

fn hit(raw: &Value) -> Hit {
    let source = &raw["_source"];
    let text = |field: &str| source[field].as_str().map(str::to_owned);
    let price = match (source["priceMin"].as_i64(), source["currency"].as_str()) {
        (Some(amount), Some(currency)) => Some(Money {
            amount,
            currency: currency.to_owned(),
        }),
        _ => None,
    };
    let highlights = raw["highlight"]
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|(field, fragments)| {
                    Some((field.clone(), fragments.get(0)?.as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    Hit {
        id: text("id").unwrap_or_default(),
        slug: text("slug"),
        title: text("title"),
        brand: text("brand"),
        price,
        in_stock: source["inStock"].as_bool().unwrap_or(false),
        image: text("image"),
        highlights,
    }
}

fn buckets(agg: &Value) -> Vec<(String, u64)> {
    agg["values"]["buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let key = match &b["key_as_string"] {
                Value::String(s) => s.clone(),
                _ => match &b["key"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            };
            Some((key, b["doc_count"].as_u64()?))
        })
        .collect()
}

fn values(agg: &Value, selected: &[String]) -> Vec<FacetValue> {
    let mut out: Vec<FacetValue> = buckets(agg)
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(value, count)| FacetValue {
            selected: selected.contains(&value),
            value,
            count,
        })
        .collect();
    // A selected value keeps its place even when other filters leave it no hits.
    for value in selected {
        if !out.iter().any(|f| &f.value == value) {
            out.push(FacetValue {
                value: value.clone(),
                count: 0,
                selected: true,
            });
        }
    }
    out
}

fn facets(request: &SearchRequest, aggs: &Value) -> Facets {
    let in_stock_selected: Vec<String> = request
        .in_stock
        .map(|b| b.to_string())
        .into_iter()
        .collect();
    let price = buckets(&aggs["price"])
        .into_iter()
        .filter_map(|(key, count)| {
            let (_, from, to) = PRICE_RANGES.iter().find(|(k, _, _)| *k == key)?;
            Some(PriceBucket {
                key,
                from: *from,
                to: *to,
                count,
            })
        })
        .collect();

    let mut attributes: BTreeMap<String, Vec<FacetValue>> = BTreeMap::new();
    let mut add_pairs = |agg: &Value, only: Option<&str>| {
        for (pair, count) in buckets(agg) {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if only.is_some_and(|o| o != name)
                || (only.is_none() && request.attributes.contains_key(name))
            {
                continue;
            }
            let selected = request
                .attributes
                .get(name)
                .is_some_and(|values| values.iter().any(|v| v == value));
            attributes
                .entry(name.to_owned())
                .or_default()
                .push(FacetValue {
                    value: value.to_owned(),
                    count,
                    selected,
                });
        }
    };
    add_pairs(&aggs["attributes"], None);
    for name in request.attributes.keys() {
        add_pairs(
            &aggs[format!("{ATTRIBUTE_FACET_PREFIX}{name}").as_str()],
            Some(name),
        );
    }

    Facets {
        category: values(&aggs["category"], &request.categories),
        brand: values(&aggs["brand"], &request.brands),
        price,
        in_stock: values(&aggs["inStock"], &in_stock_selected),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extra_hit_becomes_a_cursor_and_is_not_returned() {
        let request = SearchRequest {
            limit: 1,
            ..Default::default()
        };
        let answer = json!({
            "hits": { "total": { "value": 2 }, "hits": [
                { "_source": { "id": "a", "priceMin": 999, "currency": "EUR", "inStock": true },
                  "sort": [2.0, "a"], "highlight": { "title": ["<mark>Red</mark> mug"] } },
                { "_source": { "id": "b" }, "sort": [1.0, "b"] }
            ] },
            "aggregations": {}
        });
        let page = search_page(&request, &answer);
        assert_eq!(page.items.len(), 1);
        assert_eq!(
            page.items[0].price,
            Some(Money {
                amount: 999,
                currency: "EUR".into()
            })
        );
        assert_eq!(page.items[0].highlights["title"], "<mark>Red</mark> mug");
        let cursor = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(cursor.after, vec![json!(2.0), json!("a")]);
    }

    #[test]
    fn facets_mark_selections_and_split_attributes() {
        let request = SearchRequest {
            brands: vec!["Acme".into(), "Gone".into()],
            attributes: [("color".to_owned(), vec!["red".to_owned()])].into(),
            limit: 20,
            ..Default::default()
        };
        let answer = json!({
            "hits": { "total": { "value": 0 }, "hits": [] },
            "aggregations": {
                "brand": { "values": { "buckets": [{ "key": "Acme", "doc_count": 3 }, { "key": "Zed", "doc_count": 1 }] } },
                "inStock": { "values": { "buckets": [{ "key": 1, "key_as_string": "true", "doc_count": 4 }] } },
                "price": { "values": { "buckets": [{ "key": "under-20", "doc_count": 2 }] } },
                "attributes": { "values": { "buckets": [
                    { "key": "size=M", "doc_count": 2 }, { "key": "color=blue", "doc_count": 9 }
                ] } },
                "attr:color": { "values": { "buckets": [
                    { "key": "color=red", "doc_count": 2 }, { "key": "color=blue", "doc_count": 5 }
                ] } }
            }
        });
        let facets = search_page(&request, &answer).facets;
        assert_eq!(
            facets.brand.len(),
            3,
            "a selected brand without hits stays listed"
        );
        assert!(
            facets
                .brand
                .iter()
                .any(|b| b.value == "Gone" && b.selected && b.count == 0)
        );
        assert_eq!(facets.in_stock[0].value, "true");
        assert_eq!(facets.price[0].to, Some(2_000));
        assert_eq!(facets.attributes["size"][0].count, 2);
        let colors = &facets.attributes["color"];
        assert_eq!(colors.len(), 2, "color counts come from its own facet");
        assert!(
            colors
                .iter()
                .any(|c| c.value == "blue" && c.count == 5 && !c.selected)
        );
        assert!(colors.iter().any(|c| c.value == "red" && c.selected));
    }
}
