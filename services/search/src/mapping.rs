//! The product index: analysis (English stemming, shipped synonyms, edge n-grams for
//! autocomplete) and field mappings. Only features both Elasticsearch 7.10+ and OpenSearch serve.

use serde_json::{Value, json};

/// The shipped synonyms (Solr format), applied at query time so edits need only a reindex.
pub const SYNONYMS: &str = include_str!("../synonyms.txt");

/// Lines of the synonym file that are rules (no comments or blanks).
pub fn synonym_rules(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Settings and mappings for a new versioned product index.
pub fn product_index(synonyms: &[String]) -> Value {
    json!({
        "settings": {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            // Without an explicit interval an idle index defers refreshes until the next search.
            "refresh_interval": "1s",
            "analysis": {
                "filter": {
                    "shop_synonyms": { "type": "synonym_graph", "synonyms": synonyms, "lenient": true },
                    "english_stemmer": { "type": "stemmer", "language": "english" },
                    "english_possessive": { "type": "stemmer", "language": "possessive_english" },
                    "prefix_grams": { "type": "edge_ngram", "min_gram": 1, "max_gram": 20 }
                },
                "analyzer": {
                    "shop_index": {
                        "tokenizer": "standard",
                        "filter": ["english_possessive", "lowercase", "asciifolding", "english_stemmer"]
                    },
                    "shop_search": {
                        "tokenizer": "standard",
                        "filter": ["english_possessive", "lowercase", "asciifolding", "shop_synonyms", "english_stemmer"]
                    },
                    "prefix_index": {
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding", "prefix_grams"]
                    },
                    "prefix_search": {
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding"]
                    }
                },
                "normalizer": {
                    "folded": { "type": "custom", "filter": ["lowercase", "asciifolding"] }
                }
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": { "type": "keyword" },
                "version": { "type": "long" },
                "deleted": { "type": "boolean" },
                "slug": { "type": "keyword" },
                "title": {
                    "type": "text", "analyzer": "shop_index", "search_analyzer": "shop_search",
                    "fields": {
                        "prefix": { "type": "text", "analyzer": "prefix_index", "search_analyzer": "prefix_search" },
                        "raw": { "type": "keyword", "normalizer": "folded" }
                    }
                },
                "brand": {
                    "type": "text", "analyzer": "shop_index", "search_analyzer": "shop_search",
                    "fields": { "raw": { "type": "keyword" } }
                },
                "description": { "type": "text", "analyzer": "shop_index", "search_analyzer": "shop_search" },
                "categoryIds": { "type": "keyword" },
                "categoryNames": {
                    "type": "text", "analyzer": "shop_index", "search_analyzer": "shop_search",
                    "fields": {
                        "prefix": { "type": "text", "analyzer": "prefix_index", "search_analyzer": "prefix_search" },
                        "raw": { "type": "keyword" }
                    }
                },
                "attributes": { "type": "keyword" },
                "priceMin": { "type": "long" },
                "priceMax": { "type": "long" },
                "currency": { "type": "keyword" },
                "inStock": { "type": "boolean" },
                "image": { "type": "keyword", "index": false },
                "createdAt": { "type": "date" }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_synonyms_parse_into_rules() {
        let rules = synonym_rules(SYNONYMS);
        assert!(rules.iter().any(|r| r.starts_with("tee, t-shirt")));
        assert!(rules.iter().all(|r| !r.starts_with('#')));
    }

    #[test]
    fn index_refreshes_every_second_and_rejects_unknown_fields() {
        let index = product_index(&[]);
        assert_eq!(index["settings"]["refresh_interval"], "1s");
        assert_eq!(index["mappings"]["dynamic"], "strict");
    }
}
