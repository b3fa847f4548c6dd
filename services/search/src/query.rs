//! Turns a [`SearchRequest`] into an engine query: relevance (title > brand > description, a boost
//! for what is in stock), typo tolerance, highlighting, and disjunctive facets — each facet counts
//! with every selected filter except its own, so a shopper sees what else they could pick.

use serde_json::{Value, json};

use crate::request::{SearchRequest, Sort};

/// Price facet buckets in minor units: `(key, from, to)`; `to` is exclusive.
pub const PRICE_RANGES: &[(&str, Option<i64>, Option<i64>)] = &[
    ("under-20", None, Some(2_000)),
    ("20-50", Some(2_000), Some(5_000)),
    ("50-100", Some(5_000), Some(10_000)),
    ("100-200", Some(10_000), Some(20_000)),
    ("200-plus", Some(20_000), None),
];

/// The fields of a product document a search hit shows: the engine sends only these.
pub const HIT_FIELDS: &[&str] = &[
    "id", "slug", "title", "brand", "priceMin", "currency", "inStock", "image",
];

/// Aggregation name prefix for the facet of one selected attribute.
pub const ATTRIBUTE_FACET_PREFIX: &str = "attr:";

/// Which facet a filter belongs to; a facet's own filter is left out of its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Facet {
    Category,
    Brand,
    Price,
    InStock,
    Attribute(String),
}

/// The engine request body for a search page (one extra hit tells whether a next page exists).
pub fn search_body(request: &SearchRequest) -> Value {
    let filters = facet_filters(request);
    let all: Vec<Value> = filters.iter().map(|(_, f)| f.clone()).collect();
    let except = |facet: &Facet| -> Value {
        let kept: Vec<Value> = filters
            .iter()
            .filter(|(f, _)| f != facet)
            .map(|(_, v)| v.clone())
            .collect();
        json!({ "bool": { "filter": kept } })
    };

    let mut aggs = serde_json::Map::new();
    aggs.insert(
        "category".into(),
        facet_agg(
            except(&Facet::Category),
            json!({ "terms": { "field": "categoryIds", "size": 100 } }),
        ),
    );
    aggs.insert(
        "brand".into(),
        facet_agg(
            except(&Facet::Brand),
            json!({ "terms": { "field": "brand.raw", "size": 100 } }),
        ),
    );
    let ranges: Vec<Value> = PRICE_RANGES
        .iter()
        .map(|(key, from, to)| {
            let mut range = json!({ "key": key });
            if let Some(from) = from {
                range["from"] = json!(from);
            }
            if let Some(to) = to {
                range["to"] = json!(to);
            }
            range
        })
        .collect();
    aggs.insert(
        "price".into(),
        facet_agg(
            except(&Facet::Price),
            json!({ "range": { "field": "priceMin", "ranges": ranges } }),
        ),
    );
    aggs.insert(
        "inStock".into(),
        facet_agg(
            except(&Facet::InStock),
            json!({ "terms": { "field": "inStock", "size": 2 } }),
        ),
    );
    // Attributes nobody filtered on count with every filter applied …
    aggs.insert(
        "attributes".into(),
        facet_agg(
            json!({ "bool": { "filter": all.clone() } }),
            json!({ "terms": { "field": "attributes", "size": 500 } }),
        ),
    );
    // … and each filtered attribute counts without its own selection.
    for name in request.attributes.keys() {
        aggs.insert(
            format!("{ATTRIBUTE_FACET_PREFIX}{name}"),
            facet_agg(
                except(&Facet::Attribute(name.clone())),
                json!({ "terms": { "field": "attributes", "size": 100, "include": format!("{}=.*", escape_regex(name)) } }),
            ),
        );
    }

    let mut body = json!({
        "size": request.limit + 1,
        "track_total_hits": true,
        "_source": HIT_FIELDS,
        "query": main_query(request),
        "post_filter": { "bool": { "filter": all } },
        "aggs": aggs,
        "sort": sort_clause(request.sort),
        "highlight": {
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "encoder": "html",
            "fields": {
                "title": { "number_of_fragments": 0 },
                "description": { "fragment_size": 160, "number_of_fragments": 1 }
            }
        }
    });
    if let Some(cursor) = &request.cursor {
        body["search_after"] = Value::Array(cursor.after.clone());
    }
    body
}

fn facet_agg(filter: Value, values: Value) -> Value {
    json!({ "filter": filter, "aggs": { "values": values } })
}

/// The text part plus filters that are not facets (live documents only).
fn main_query(request: &SearchRequest) -> Value {
    let must = match &request.text {
        None => json!({ "match_all": {} }),
        Some(text) => json!({
            "bool": {
                "should": [
                    // Exact words and synonyms.
                    { "multi_match": {
                        "query": text,
                        "fields": ["title^3", "brand^2", "categoryNames^1.5", "description"],
                        "type": "best_fields",
                        "operator": "and",
                        "boost": 2
                    } },
                    // Typos: edits allowed by term length (none up to 2 letters, 1 up to 5, else 2),
                    // without synonyms, which do not combine with fuzziness.
                    { "multi_match": {
                        "query": text,
                        "fields": ["title^3", "brand^2", "categoryNames^1.5", "description"],
                        "type": "best_fields",
                        "operator": "and",
                        "analyzer": "shop_index",
                        "fuzziness": "AUTO",
                        "prefix_length": 1,
                        "max_expansions": 20
                    } },
                    // Words typed so far: the last may be incomplete.
                    { "match_phrase_prefix": { "title": { "query": text, "boost": 1.5 } } }
                ],
                "minimum_should_match": 1
            }
        }),
    };
    json!({
        "bool": {
            "must": [must],
            "filter": [{ "term": { "deleted": false } }],
            "should": [{ "term": { "inStock": { "value": true, "boost": 1.2 } } }]
        }
    })
}

fn facet_filters(request: &SearchRequest) -> Vec<(Facet, Value)> {
    let mut filters = Vec::new();
    if !request.categories.is_empty() {
        filters.push((
            Facet::Category,
            json!({ "terms": { "categoryIds": request.categories } }),
        ));
    }
    if !request.brands.is_empty() {
        filters.push((
            Facet::Brand,
            json!({ "terms": { "brand.raw": request.brands } }),
        ));
    }
    if request.price_min.is_some() || request.price_max.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(min) = request.price_min {
            range.insert("gte".into(), json!(min));
        }
        if let Some(max) = request.price_max {
            range.insert("lte".into(), json!(max));
        }
        filters.push((Facet::Price, json!({ "range": { "priceMin": range } })));
    }
    if let Some(in_stock) = request.in_stock {
        filters.push((Facet::InStock, json!({ "term": { "inStock": in_stock } })));
    }
    for (name, values) in &request.attributes {
        let pairs: Vec<String> = values.iter().map(|v| attribute_value(name, v)).collect();
        filters.push((
            Facet::Attribute(name.clone()),
            json!({ "terms": { "attributes": pairs } }),
        ));
    }
    filters
}

/// How an attribute is indexed: `name=value`, lowercased name.
pub fn attribute_value(name: &str, value: &str) -> String {
    format!("{}={value}", name.to_lowercase())
}

fn sort_clause(sort: Sort) -> Value {
    match sort {
        Sort::Relevance => json!([{ "_score": "desc" }, { "id": "asc" }]),
        Sort::PriceAsc => json!([{ "priceMin": "asc" }, { "id": "asc" }]),
        Sort::PriceDesc => json!([{ "priceMin": "desc" }, { "id": "asc" }]),
        Sort::Newest => json!([{ "createdAt": "desc" }, { "id": "asc" }]),
    }
}

/// Escapes Lucene regular-expression operators so a name matches only itself.
fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if ".?+*|{}[]()\"\\#@&<>~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The engine request body for autocomplete: products whose title starts with what was typed,
/// and (over all products, not only those hits) category names that do.
pub fn suggest_body(text: &str, limit: usize) -> Value {
    json!({
        "size": limit,
        "_source": ["id", "slug", "title", "image"],
        "query": {
            "bool": {
                "must": [{ "match": { "title.prefix": { "query": text, "operator": "and" } } }],
                "filter": [{ "term": { "deleted": false } }],
                "should": [{ "term": { "inStock": { "value": true, "boost": 1.2 } } }]
            }
        },
        "aggs": {
            "categories": {
                "global": {},
                "aggs": {
                    "matching": {
                        "filter": { "bool": {
                            "must": [{ "match": { "categoryNames.prefix": { "query": text, "operator": "and" } } }],
                            "filter": [{ "term": { "deleted": false } }]
                        } },
                        "aggs": { "names": { "terms": { "field": "categoryNames.raw", "size": 50 } } }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Cursor;

    fn request() -> SearchRequest {
        SearchRequest {
            text: Some("shoes".into()),
            brands: vec!["Acme".into()],
            price_min: Some(1_000),
            attributes: [("color".to_owned(), vec!["red".to_owned()])].into(),
            limit: 20,
            ..Default::default()
        }
    }

    #[test]
    fn selected_filters_narrow_hits_after_aggregation() {
        let body = search_body(&request());
        let post = body["post_filter"]["bool"]["filter"].as_array().unwrap();
        assert_eq!(post.len(), 3, "brand, price and color");
        assert_eq!(body["size"], 21, "one extra hit detects a next page");
    }

    #[test]
    fn each_facet_counts_without_its_own_filter() {
        let body = search_body(&request());
        let filters = |agg: &str| body["aggs"][agg]["filter"]["bool"]["filter"].to_string();
        assert!(!filters("brand").contains("brand.raw"));
        assert!(filters("brand").contains("priceMin"));
        assert!(!filters("price").contains("priceMin"));
        assert!(filters("price").contains("brand.raw"));
        assert!(!filters("attr:color").contains("color=red"));
        assert!(filters("attr:color").contains("brand.raw"));
        assert!(filters("attributes").contains("color=red"));
    }

    #[test]
    fn text_is_matched_as_text_only() {
        let mut request = request();
        request.text = Some(r#"*:* OR {"match_all":{}}"#.into());
        let body = search_body(&request).to_string();
        assert!(!body.contains("query_string"));
        assert!(!body.contains("simple_query_string"));
    }

    #[test]
    fn cursor_continues_after_the_last_hit() {
        let mut request = request();
        request.cursor = Some(Cursor {
            sort: Sort::Relevance,
            after: vec![json!(1.5), json!("p-1")],
        });
        let body = search_body(&request);
        assert_eq!(body["search_after"], json!([1.5, "p-1"]));
        assert_eq!(body["sort"][1], json!({ "id": "asc" }), "ties break on id");
    }

    #[test]
    fn only_the_fields_a_hit_shows_come_back() {
        let body = search_body(&request());
        assert_eq!(body["_source"], json!(HIT_FIELDS));
        assert!(!HIT_FIELDS.contains(&"description"));
    }

    #[test]
    fn attribute_names_cannot_inject_regex() {
        assert_eq!(escape_regex("a.b*"), "a\\.b\\*");
    }
}
