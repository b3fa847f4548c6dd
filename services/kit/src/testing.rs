//! Where tests find the real backing services (`cargo xtask test` and `cargo xtask up` start them),
//! and names that keep parallel tests apart. Enabled by the `testing` feature, for dev-dependencies.

/// Superuser URL of the test PostgreSQL server (`STOREFRONT_POSTGRES_URL`); tests create their own databases.
pub fn postgres_url() -> String {
    var(
        "STOREFRONT_POSTGRES_URL",
        "postgres://storefront@127.0.0.1:15432/postgres",
    )
}

/// `STOREFRONT_REDIS_URL`.
pub fn redis_url() -> String {
    var("STOREFRONT_REDIS_URL", "redis://127.0.0.1:16379")
}

/// The MongoDB-wire server (`STOREFRONT_MONGODB_URL`).
pub fn mongodb_url() -> String {
    var("STOREFRONT_MONGODB_URL", "mongodb://127.0.0.1:27018")
}

/// The Elasticsearch-API search engine (`STOREFRONT_OPENSEARCH_URL`).
pub fn opensearch_url() -> String {
    var("STOREFRONT_OPENSEARCH_URL", "http://127.0.0.1:19200")
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A name no other test run uses: `prefix_` + 16 hex digits (valid as a database or index name).
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    )
}

/// `url` with its database (path) replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_swapped_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "t_1"),
            "postgres://u@h:1/t_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "t_2"),
            "postgres://u@h:1/t_2"
        );
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("t"), unique_name("t"));
        assert!(unique_name("users").starts_with("users_"));
    }
}
