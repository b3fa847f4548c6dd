//! Engine answers turned into the API's pages: hits with highlights, a next-page cursor, facet
//! counts that mark what the shopper selected, and suggestions.
//!
//! Answers are decoded straight into the few fields the API uses (everything else is skipped
//! while parsing), and the page takes ownership of what it returns instead of copying it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
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

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suggestions {
    pub products: Vec<SuggestedProduct>,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedProduct {
    pub id: String,
    pub slug: Option<String>,
    pub title: Option<String>,
    pub image: Option<String>,
}

/// An engine answer to [`crate::query::search_body`]: what the API reads of it.
#[derive(Debug, Default, Deserialize)]
pub struct SearchAnswer {
    #[serde(default)]
    hits: AnswerHits,
    #[serde(default)]
    aggregations: HashMap<String, FacetAnswer>,
}

/// An engine answer to [`crate::query::suggest_body`].
#[derive(Debug, Default, Deserialize)]
pub struct SuggestAnswer {
    #[serde(default)]
    hits: AnswerHits,
    #[serde(default)]
    aggregations: SuggestAggregations,
}

#[derive(Debug, Default, Deserialize)]
struct AnswerHits {
    #[serde(default)]
    total: Total,
    #[serde(default)]
    hits: Vec<RawHit>,
}

#[derive(Debug, Default, Deserialize)]
struct Total {
    #[serde(default)]
    value: u64,
}

#[derive(Debug, Deserialize)]
struct RawHit {
    #[serde(rename = "_source", default)]
    source: HitSource,
    #[serde(default)]
    highlight: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    sort: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HitSource {
    #[serde(default)]
    id: String,
    slug: Option<String>,
    title: Option<String>,
    brand: Option<String>,
    price_min: Option<i64>,
    currency: Option<String>,
    #[serde(default)]
    in_stock: bool,
    image: Option<String>,
}

/// A facet: a filter aggregation around the `values` it counts.
#[derive(Debug, Default, Deserialize)]
struct FacetAnswer {
    #[serde(default)]
    values: Buckets,
}

#[derive(Debug, Default, Deserialize)]
struct Buckets {
    #[serde(default)]
    buckets: Vec<Bucket>,
}

#[derive(Debug, Deserialize)]
struct Bucket {
    #[serde(default)]
    key: Value,
    key_as_string: Option<String>,
    #[serde(default)]
    doc_count: u64,
}

impl Bucket {
    /// The bucket's value as text: `true` rather than `1` for booleans.
    fn into_text(self) -> (String, u64) {
        let text = match (self.key_as_string, self.key) {
            (Some(text), _) => text,
            (None, Value::String(text)) => text,
            (None, other) => other.to_string(),
        };
        (text, self.doc_count)
    }
}

#[derive(Debug, Default, Deserialize)]
struct SuggestAggregations {
    #[serde(default)]
    categories: GlobalCategories,
}

#[derive(Debug, Default, Deserialize)]
struct GlobalCategories {
    #[serde(default)]
    matching: MatchingCategories,
}

#[derive(Debug, Default, Deserialize)]
struct MatchingCategories {
    #[serde(default)]
    names: Buckets,
}

/// Reads a search answer made by [`crate::query::search_body`] for `request`.
pub fn search_page(request: &SearchRequest, answer: SearchAnswer) -> SearchPage {
    let SearchAnswer {
        hits: AnswerHits { total, mut hits },
        mut aggregations,
    } = answer;
    let has_more = hits.len() > request.limit;
    hits.truncate(request.limit);
    let next_cursor = if has_more {
        hits.last().map(|hit| {
            Cursor {
                sort: request.sort,
                after: hit.sort.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    SearchPage {
        items: hits.into_iter().map(hit).collect(),
        total: total.value,
        next_cursor,
        facets: facets(request, &mut aggregations),
    }
}

/// Reads a suggest answer made by [`crate::query::suggest_body`] for the typed `text`.
pub fn suggestions(text: &str, answer: SuggestAnswer, limit: usize) -> Suggestions {
    let products = answer
        .hits
        .hits
        .into_iter()
        .map(|hit| SuggestedProduct {
            id: hit.source.id,
            slug: hit.source.slug,
            title: hit.source.title,
            image: hit.source.image,
        })
        .collect();
    let names = answer.aggregations.categories.matching.names.buckets;
    Suggestions {
        products,
        categories: matching_categories(text, names, limit),
    }
}

/// Category names among the hits' categories whose words start with every typed word.
fn matching_categories(text: &str, names: Vec<Bucket>, limit: usize) -> Vec<String> {
    let typed: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    names
        .into_iter()
        .map(|bucket| bucket.into_text().0)
        .filter(|name| {
            let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
            typed
                .iter()
                .all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
        })
        .take(limit)
        .collect()
}

fn hit(raw: RawHit) -> Hit {
    let RawHit {
        source, highlight, ..
    } = raw;
    let price = match (source.price_min, source.currency) {
        (Some(amount), Some(currency)) => Some(Money { amount, currency }),
        _ => None,
    };
    let highlights = highlight
        .into_iter()
        .filter_map(|(field, fragments)| Some((field, fragments.into_iter().next()?)))
        .collect();
    Hit {
        id: source.id,
        slug: source.slug,
        title: source.title,
        brand: source.brand,
        price,
        in_stock: source.in_stock,
        image: source.image,
        highlights,
    }
}

/// The non-empty buckets of the facet `name` (taken out of the answer).
fn buckets(aggs: &mut HashMap<String, FacetAnswer>, name: &str) -> Vec<(String, u64)> {
    aggs.remove(name)
        .map(|facet| facet.values.buckets)
        .unwrap_or_default()
        .into_iter()
        .map(Bucket::into_text)
        .collect()
}

fn values(found: Vec<(String, u64)>, selected: &[String]) -> Vec<FacetValue> {
    let mut out: Vec<FacetValue> = found
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

fn facets(request: &SearchRequest, aggs: &mut HashMap<String, FacetAnswer>) -> Facets {
    let in_stock_selected: Vec<String> = request
        .in_stock
        .map(|b| b.to_string())
        .into_iter()
        .collect();
    let price = buckets(aggs, "price")
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
    let mut add_pairs = |found: Vec<(String, u64)>, only: Option<&str>| {
        for (pair, count) in found {
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
    add_pairs(buckets(aggs, "attributes"), None);
    for name in request.attributes.keys() {
        add_pairs(
            buckets(aggs, &format!("{ATTRIBUTE_FACET_PREFIX}{name}")),
            Some(name),
        );
    }

    Facets {
        category: values(buckets(aggs, "category"), &request.categories),
        brand: values(buckets(aggs, "brand"), &request.brands),
        price,
        in_stock: values(buckets(aggs, "inStock"), &in_stock_selected),
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
        let page = search_page(&request, serde_json::from_value(answer).unwrap());
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
        let facets = search_page(&request, serde_json::from_value(answer).unwrap()).facets;
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

    #[test]
    fn only_categories_matching_every_typed_word_are_suggested() {
        let names = |keys: &[&str]| -> Vec<Bucket> {
            keys.iter()
                .map(|k| Bucket {
                    key: json!(k),
                    key_as_string: None,
                    doc_count: 1,
                })
                .collect()
        };
        let all = ["Running Shoes", "Shirts", "Rugs"];
        assert_eq!(
            matching_categories("ru sh", names(&all), 8),
            vec!["Running Shoes"]
        );
        assert_eq!(
            matching_categories("SH", names(&all), 8),
            vec!["Running Shoes", "Shirts"]
        );
        assert_eq!(matching_categories("SH", names(&all), 1).len(), 1);
    }

    #[test]
    fn suggest_answer_becomes_products_and_category_names() {
        let answer = json!({
            "hits": { "hits": [{ "_source": { "id": "p1", "slug": "tee", "title": "Tee", "image": "/t.webp" } }] },
            "aggregations": { "categories": { "doc_count": 9, "matching": { "doc_count": 2, "names": {
                "buckets": [{ "key": "Tops", "doc_count": 2 }, { "key": "Shoes", "doc_count": 1 }]
            } } } }
        });
        let found = suggestions("to", serde_json::from_value(answer).unwrap(), 8);
        assert_eq!(found.products[0].title.as_deref(), Some("Tee"));
        assert_eq!(found.categories, vec!["Tops"]);
    }
}
