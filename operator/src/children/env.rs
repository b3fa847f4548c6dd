//! Environment of the component containers: the service config contract (`USERS_DATABASE_URL`, ...).
//!
//! Connection details of each data store are first exposed as `SF_<STORE>_{HOST,PORT,USERNAME,PASSWORD}`
//! (literal values for managed stores, Secret keys for external ones); the URLs the services read are
//! then composed with Kubernetes' `$(VAR)` expansion, so no credential ever appears in a pod spec.

use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, SecretKeySelector};

use crate::children::secret::{CREDENTIALS_SUFFIX, JWT_SUFFIX, KEY_ENCRYPTION_KEY, password_key};
use crate::component::{Component, Database, HTTP_PORT};
use crate::crd::{ExternalDatabase, S3Target, Storefront};
use crate::meta::child_name;

pub(crate) fn value(name: impl Into<String>, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

pub(crate) fn from_secret(name: impl Into<String>, secret: String, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret,
                key: key.to_string(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// `s3://bucket/some/prefix` → (`bucket`, `some/prefix/`).
pub fn split_s3_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("s3://").unwrap_or(url);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    (bucket.to_owned(), prefix)
}

/// The `<group>_{BUCKET,PREFIX,ENDPOINT,REGION,PATH_STYLE,ACCESS_KEY_ID,SECRET_ACCESS_KEY}` a
/// service reads an S3 bucket from (`storefront_kit::s3::S3Settings`); the keys come from the
/// target's Secret.
pub(crate) fn s3_env(group: &str, s3: &S3Target) -> Vec<EnvVar> {
    let name = |part: &str| format!("{group}_{part}");
    let (bucket, prefix) = split_s3_url(&s3.url);
    let mut env = vec![value(name("BUCKET"), bucket)];
    if !prefix.is_empty() {
        env.push(value(name("PREFIX"), prefix));
    }
    if let Some(endpoint) = &s3.endpoint {
        env.push(value(name("ENDPOINT"), endpoint.clone()));
    }
    if let Some(region) = &s3.region {
        env.push(value(name("REGION"), region.clone()));
    }
    env.push(value(name("PATH_STYLE"), s3.path_style.to_string()));
    let secret = &s3.credentials_secret_ref.name;
    env.push(from_secret(
        name("ACCESS_KEY_ID"),
        secret.clone(),
        "accessKeyId",
    ));
    env.push(from_secret(
        name("SECRET_ACCESS_KEY"),
        secret.clone(),
        "secretAccessKey",
    ));
    env
}

fn var(db: Database, part: &str) -> String {
    format!("SF_{}_{part}", db.env_prefix())
}

/// `$(SF_<STORE>_<PART>)`, expanded by the kubelet.
fn expand(db: Database, part: &str) -> String {
    format!("$({})", var(db, part))
}

/// The store's external settings, when it is not managed.
fn external(sf: &Storefront, db: Database) -> Option<&ExternalDatabase> {
    db.spec(&sf.spec).external.as_ref()
}

/// Whether the component must reach this store over TLS (external stores, unless turned off).
fn tls(sf: &Storefront, db: Database) -> bool {
    external(sf, db).is_some_and(|e| e.tls)
}

/// What the store's names start with on a server it may share (external stores only).
pub(crate) fn prefix(sf: &Storefront, db: Database) -> &str {
    external(sf, db)
        .and_then(|e| e.prefix.as_deref())
        .unwrap_or_default()
}

/// `?a=b&c=d` of the given parameters plus the external store's own options; empty without any.
fn query(sf: &Storefront, db: Database, mut params: Vec<String>) -> String {
    if let Some(options) = external(sf, db).and_then(|e| e.options.as_deref()) {
        params.push(options.to_string());
    }
    if params.is_empty() {
        String::new()
    } else {
        format!("?{}", params.join("&"))
    }
}

/// The `SF_<STORE>_*` variables of one data store.
pub(crate) fn connection(sf: &Storefront, db: Database) -> Vec<EnvVar> {
    if let Some(ext) = external(sf, db) {
        let secret = &ext.secret_ref.name;
        return ["HOST", "PORT", "USERNAME", "PASSWORD"]
            .into_iter()
            .map(|part| from_secret(var(db, part), secret.clone(), &part.to_lowercase()))
            .collect();
    }
    let mut vars = vec![
        value(var(db, "HOST"), child_name(sf, db.name())),
        value(var(db, "PORT"), db.port().to_string()),
    ];
    // The managed search engine runs without its security plugin, reachable only from search
    // (NetworkPolicy), so it has no account.
    if db != Database::Opensearch {
        vars.push(value(var(db, "USERNAME"), db.managed_username()));
        vars.push(from_secret(
            var(db, "PASSWORD"),
            child_name(sf, CREDENTIALS_SUFFIX),
            &password_key(db),
        ));
    }
    vars
}

fn user_info(db: Database) -> String {
    format!("{}:{}", expand(db, "USERNAME"), expand(db, "PASSWORD"))
}

fn host_port(db: Database) -> String {
    format!("{}:{}", expand(db, "HOST"), expand(db, "PORT"))
}

/// The URL of one of the store's PostgreSQL databases (`users`, `orders`, `catalog`).
pub(crate) fn postgres_url(sf: &Storefront, database: &str) -> String {
    let db = Database::Postgres;
    let tls = tls(sf, db).then(|| "sslmode=require".to_string());
    format!(
        "postgres://{}@{}/{}{database}{}",
        user_info(db),
        host_port(db),
        prefix(sf, db),
        query(sf, db, tls.into_iter().collect())
    )
}

pub(crate) fn redis_url(sf: &Storefront) -> String {
    let db = Database::Redis;
    let scheme = if tls(sf, db) { "rediss" } else { "redis" };
    format!("{scheme}://{}@{}", user_info(db), host_port(db))
}

/// The prefix of every key and stream the cart writes.
fn redis_key_prefix(sf: &Storefront) -> String {
    format!("{}cart:", prefix(sf, Database::Redis))
}

/// The MongoDB database of the catalog's documents.
pub(crate) fn mongodb_database(sf: &Storefront) -> String {
    format!("{}catalog", prefix(sf, Database::Mongodb))
}

pub(crate) fn mongodb_url(sf: &Storefront) -> String {
    let db = Database::Mongodb;
    let params = match external(sf, db) {
        Some(e) if e.tls => vec!["tls=true".to_string()],
        Some(_) => Vec::new(),
        None => vec!["authSource=admin".to_string()],
    };
    format!(
        "mongodb://{}@{}/{}{}",
        user_info(db),
        host_port(db),
        mongodb_database(sf),
        query(sf, db, params)
    )
}

fn search_engine_url(sf: &Storefront) -> String {
    let db = Database::Opensearch;
    match external(sf, db) {
        Some(e) => {
            let scheme = if e.tls { "https" } else { "http" };
            format!("{scheme}://{}@{}", user_info(db), host_port(db))
        }
        None => format!("http://{}", host_port(db)),
    }
}

/// The alias the search index is reached by.
fn search_index_alias(sf: &Storefront) -> String {
    format!("{}products", prefix(sf, Database::Opensearch))
}

fn internal_url(sf: &Storefront, component: Component) -> String {
    format!("http://{}:{HTTP_PORT}", child_name(sf, component.name()))
}

fn jwks_url(sf: &Storefront) -> String {
    format!(
        "{}/.well-known/jwks.json",
        internal_url(sf, Component::Users)
    )
}

/// The full environment of a component's container.
pub fn component_env(sf: &Storefront, component: Component) -> Vec<EnvVar> {
    let mut env: Vec<EnvVar> = component
        .databases()
        .into_iter()
        .flat_map(|db| connection(sf, db))
        .collect();
    let prefix = component.env_prefix();
    let key = |name: &str| format!("{prefix}_{name}");
    env.push(value(key("LISTEN_ADDR"), format!("0.0.0.0:{HTTP_PORT}")));
    match component {
        Component::Users => {
            env.push(value(key("DATABASE_URL"), postgres_url(sf, "users")));
            env.push(from_secret(
                key("SIGNING_KEY_ENCRYPTION_KEY"),
                child_name(sf, JWT_SUFFIX),
                KEY_ENCRYPTION_KEY,
            ));
            // Links in mails point at the store as shoppers reach it.
            env.push(value(key("PUBLIC_URL"), sf.spec.url()));
            if let Some(mail) = &sf.spec.mail {
                env.push(from_secret(
                    key("SMTP_URL"),
                    mail.smtp_secret_ref.name.clone(),
                    "url",
                ));
                if let Some(from) = &mail.from {
                    env.push(value(key("MAIL_FROM"), from.clone()));
                }
            }
        }
        Component::Catalog => {
            env.push(value(key("MONGODB_URL"), mongodb_url(sf)));
            env.push(value(key("MONGODB_DATABASE"), mongodb_database(sf)));
            env.push(value(
                key("LEDGER_DATABASE_URL"),
                postgres_url(sf, "catalog"),
            ));
            env.push(value(key("JWKS_URL"), jwks_url(sf)));
            if let Some(images) = &sf.spec.product_images {
                env.extend(s3_env(&key("IMAGES_S3"), &images.s3));
            }
        }
        Component::Cart => {
            env.push(value(key("REDIS_URL"), redis_url(sf)));
            env.push(value(key("REDIS_PREFIX"), redis_key_prefix(sf)));
            env.push(value(key("DATABASE_URL"), postgres_url(sf, "orders")));
            env.push(value(
                key("CATALOG_URL"),
                internal_url(sf, Component::Catalog),
            ));
            env.push(value(key("JWKS_URL"), jwks_url(sf)));
        }
        Component::Search => {
            env.push(value(key("ELASTICSEARCH_URL"), search_engine_url(sf)));
            env.push(value(key("INDEX_ALIAS"), search_index_alias(sf)));
            env.push(value(key("JWKS_URL"), jwks_url(sf)));
            env.push(value(
                key("CATALOG_URL"),
                internal_url(sf, Component::Catalog),
            ));
        }
        Component::StoreUi => {}
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    fn get<'a>(env: &'a [EnvVar], name: &str) -> &'a EnvVar {
        env.iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn cart_gets_its_contract_with_credentials_from_the_generated_secret() {
        let env = component_env(&minimal(), Component::Cart);
        assert_eq!(
            get(&env, "CART_DATABASE_URL").value.as_deref(),
            Some(
                "postgres://$(SF_POSTGRES_USERNAME):$(SF_POSTGRES_PASSWORD)@$(SF_POSTGRES_HOST):$(SF_POSTGRES_PORT)/orders"
            )
        );
        assert_eq!(
            get(&env, "CART_REDIS_URL").value.as_deref(),
            Some(
                "redis://$(SF_REDIS_USERNAME):$(SF_REDIS_PASSWORD)@$(SF_REDIS_HOST):$(SF_REDIS_PORT)"
            )
        );
        assert_eq!(
            get(&env, "CART_CATALOG_URL").value.as_deref(),
            Some("http://shop-catalog:8080")
        );
        assert_eq!(
            get(&env, "CART_JWKS_URL").value.as_deref(),
            Some("http://shop-users:8080/.well-known/jwks.json")
        );
        let password = get(&env, "SF_POSTGRES_PASSWORD");
        let secret = password
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
            .expect("secret ref");
        assert_eq!(secret.name, "shop-credentials");
        assert_eq!(secret.key, "postgres-password");
        assert!(env.iter().all(|e| !e.name.starts_with("SF_MONGODB")));
    }

    #[test]
    fn users_link_to_the_store_and_send_mail_only_when_configured() {
        let env = component_env(&minimal(), Component::Users);
        assert_eq!(
            get(&env, "USERS_PUBLIC_URL").value.as_deref(),
            Some("http://shop.example.com")
        );
        assert!(env.iter().all(|e| e.name != "USERS_SMTP_URL"));

        let sf = storefront(
            "version: \"1.0.0\"\nhost: a.example\ningress: {tlsSecretName: a-tls}\nmail:\n  smtpSecretRef: {name: smtp}\n  from: \"Shop <no-reply@a.example>\"\n",
        );
        let env = component_env(&sf, Component::Users);
        assert_eq!(
            get(&env, "USERS_PUBLIC_URL").value.as_deref(),
            Some("https://a.example")
        );
        let smtp = get(&env, "USERS_SMTP_URL")
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
            .expect("from the Secret");
        assert_eq!((smtp.name.as_str(), smtp.key.as_str()), ("smtp", "url"));
        assert_eq!(
            get(&env, "USERS_MAIL_FROM").value.as_deref(),
            Some("Shop <no-reply@a.example>")
        );
    }

    #[test]
    fn s3_urls_split_into_bucket_and_prefix() {
        assert_eq!(split_s3_url("s3://b"), ("b".into(), "".into()));
        assert_eq!(split_s3_url("s3://b/"), ("b".into(), "".into()));
        assert_eq!(split_s3_url("s3://b/x/y/"), ("b".into(), "x/y/".into()));
    }

    #[test]
    fn the_catalog_keeps_images_in_the_declared_bucket_and_nowhere_else_without_one() {
        let env = component_env(&minimal(), Component::Catalog);
        assert!(env.iter().all(|e| !e.name.starts_with("CATALOG_IMAGES_S3")));

        let sf = storefront(
            "version: \"1.0.0\"\nhost: a.example\nproductImages:\n  s3:\n    url: s3://shop-media/images\n    endpoint: http://minio:9000\n    pathStyle: true\n    credentialsSecretRef: {name: media-keys}\n",
        );
        let env = component_env(&sf, Component::Catalog);
        let literal = |name: &str| get(&env, name).value.as_deref();
        assert_eq!(literal("CATALOG_IMAGES_S3_BUCKET"), Some("shop-media"));
        assert_eq!(literal("CATALOG_IMAGES_S3_PREFIX"), Some("images/"));
        assert_eq!(
            literal("CATALOG_IMAGES_S3_ENDPOINT"),
            Some("http://minio:9000")
        );
        assert_eq!(literal("CATALOG_IMAGES_S3_PATH_STYLE"), Some("true"));
        assert!(env.iter().all(|e| e.name != "CATALOG_IMAGES_S3_REGION"));
        for (name, key) in [
            ("CATALOG_IMAGES_S3_ACCESS_KEY_ID", "accessKeyId"),
            ("CATALOG_IMAGES_S3_SECRET_ACCESS_KEY", "secretAccessKey"),
        ] {
            let secret = get(&env, name)
                .value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
                .expect("from the Secret");
            assert_eq!(
                (secret.name.as_str(), secret.key.as_str()),
                ("media-keys", key)
            );
        }
        // The other components never see the bucket.
        for component in [Component::Users, Component::Cart, Component::Search] {
            let env = component_env(&sf, component);
            assert!(env.iter().all(|e| !e.name.contains("IMAGES_S3")));
        }
    }

    #[test]
    fn variables_are_defined_before_they_are_expanded() {
        for component in Component::ALL {
            let env = component_env(&minimal(), component);
            for (i, e) in env.iter().enumerate() {
                let Some(v) = &e.value else { continue };
                for earlier in v.split("$(").skip(1) {
                    let name = earlier.split(')').next().unwrap_or_default();
                    assert!(
                        env[..i].iter().any(|d| d.name == name),
                        "{} expands {name} before it is defined",
                        e.name
                    );
                }
            }
        }
    }

    #[test]
    fn external_stores_come_from_their_secret_over_tls() {
        let sf = storefront(
            "version: \"1.0.0\"\nhost: a.example\ndatabases:\n  postgres:\n    external:\n      secretRef: {name: rds}\n  redis:\n    external:\n      secretRef: {name: cache}\n",
        );
        let env = component_env(&sf, Component::Cart);
        let host = get(&env, "SF_POSTGRES_HOST")
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
            .expect("secret ref");
        assert_eq!((host.name.as_str(), host.key.as_str()), ("rds", "host"));
        assert!(
            get(&env, "CART_DATABASE_URL")
                .value
                .as_deref()
                .is_some_and(|u| u.ends_with("/orders?sslmode=require"))
        );
        assert!(
            get(&env, "CART_REDIS_URL")
                .value
                .as_deref()
                .is_some_and(|u| u.starts_with("rediss://"))
        );
    }

    #[test]
    fn a_store_on_shared_plain_servers_keeps_to_its_prefix() {
        let sf = storefront(
            "version: \"1.0.0\"\nhost: a.example\ndatabases:\n  postgres:\n    external: {secretRef: {name: pg}, tls: false, prefix: sf_a_}\n  redis:\n    external: {secretRef: {name: rd}, tls: false, prefix: sf_a_}\n  mongodb:\n    external: {secretRef: {name: mg}, tls: false, prefix: sf_a_, options: authMechanism=PLAIN}\n  opensearch:\n    external: {secretRef: {name: os}, tls: false, prefix: sf_a_}\n",
        );
        let cart = component_env(&sf, Component::Cart);
        assert_eq!(
            get(&cart, "CART_DATABASE_URL").value.as_deref(),
            Some(
                "postgres://$(SF_POSTGRES_USERNAME):$(SF_POSTGRES_PASSWORD)@$(SF_POSTGRES_HOST):$(SF_POSTGRES_PORT)/sf_a_orders"
            )
        );
        assert!(
            get(&cart, "CART_REDIS_URL")
                .value
                .as_deref()
                .is_some_and(|u| u.starts_with("redis://"))
        );
        assert_eq!(
            get(&cart, "CART_REDIS_PREFIX").value.as_deref(),
            Some("sf_a_cart:")
        );
        let catalog = component_env(&sf, Component::Catalog);
        assert_eq!(
            get(&catalog, "CATALOG_MONGODB_URL").value.as_deref(),
            Some(
                "mongodb://$(SF_MONGODB_USERNAME):$(SF_MONGODB_PASSWORD)@$(SF_MONGODB_HOST):$(SF_MONGODB_PORT)/sf_a_catalog?authMechanism=PLAIN"
            )
        );
        assert_eq!(
            get(&catalog, "CATALOG_MONGODB_DATABASE").value.as_deref(),
            Some("sf_a_catalog")
        );
        let search = component_env(&sf, Component::Search);
        assert!(
            get(&search, "SEARCH_ELASTICSEARCH_URL")
                .value
                .as_deref()
                .is_some_and(|u| u.starts_with("http://"))
        );
        assert_eq!(
            get(&search, "SEARCH_INDEX_ALIAS").value.as_deref(),
            Some("sf_a_products")
        );
    }

    #[test]
    fn managed_stores_keep_the_default_names() {
        let sf = minimal();
        let catalog = component_env(&sf, Component::Catalog);
        assert!(
            get(&catalog, "CATALOG_MONGODB_URL")
                .value
                .as_deref()
                .is_some_and(|u| u.ends_with("/catalog?authSource=admin"))
        );
        assert_eq!(
            get(&component_env(&sf, Component::Cart), "CART_REDIS_PREFIX")
                .value
                .as_deref(),
            Some("cart:")
        );
    }

    #[test]
    fn search_follows_the_catalog_and_verifies_admin_tokens() {
        let env = component_env(&minimal(), Component::Search);
        for name in [
            "SEARCH_ELASTICSEARCH_URL",
            "SEARCH_CATALOG_URL",
            "SEARCH_JWKS_URL",
        ] {
            assert!(get(&env, name).value.is_some(), "{name}");
        }
    }

    #[test]
    fn users_gets_its_key_encryption_key_and_listen_address() {
        let env = component_env(&minimal(), Component::Users);
        assert_eq!(
            get(&env, "USERS_LISTEN_ADDR").value.as_deref(),
            Some("0.0.0.0:8080")
        );
        let seed = get(&env, "USERS_SIGNING_KEY_ENCRYPTION_KEY")
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
            .expect("secret ref");
        assert_eq!(seed.name, "shop-jwt");
        assert!(
            get(&env, "USERS_DATABASE_URL")
                .value
                .as_deref()
                .is_some_and(|u| u.ends_with("/users"))
        );
    }
}
