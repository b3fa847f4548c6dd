//! Every service's OpenAPI document is whole: the UI's client is generated from these documents,
//! so a security requirement naming no declared scheme, or a reference to no schema, breaks it.

use serde_json::Value;
use utoipa::OpenApi as _;

fn documents() -> Vec<(&'static str, Value)> {
    let json = |doc: utoipa::openapi::OpenApi| serde_json::to_value(doc).expect("a JSON document");
    vec![
        ("users", json(storefront_users::openapi())),
        ("catalog", json(storefront_catalog::ApiDoc::openapi())),
        ("cart", json(storefront_cart::openapi())),
        ("search", json(storefront_search::ApiDoc::openapi())),
    ]
}

/// Every `$ref` anywhere in `value`.
fn references<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => out.push(target),
                    _ => references(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

#[test]
fn every_security_requirement_names_a_declared_scheme() {
    for (service, doc) in documents() {
        let schemes = &doc["components"]["securitySchemes"];
        let operations =
            doc["paths"]
                .as_object()
                .expect("paths")
                .iter()
                .flat_map(|(path, item)| {
                    let methods = item.as_object().expect("a path item");
                    methods.iter().map(move |(method, op)| (path, method, op))
                });
        let mut secured = 0;
        for (path, method, operation) in operations {
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for name in requirement.as_object().expect("a requirement").keys() {
                    secured += 1;
                    assert!(
                        schemes.get(name).is_some(),
                        "{service}: {method} {path} requires {name:?}, which the document does not declare"
                    );
                }
            }
        }
        assert!(secured > 0, "{service}: no operation is secured");
    }
}

#[test]
fn every_reference_resolves() {
    for (service, doc) in documents() {
        let mut found = Vec::new();
        references(&doc, &mut found);
        assert!(!found.is_empty(), "{service}: no references at all");
        for target in found {
            let pointer = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{service}: external reference {target}"));
            assert!(
                doc.pointer(pointer).is_some(),
                "{service}: {target} resolves to nothing"
            );
        }
    }
}
