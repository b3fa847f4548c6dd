//! The platform's own services as the local stack runs them. A service joins `cargo xtask up` (build,
//! start, health check, gateway route, Prometheus scrape) when its entry names its binary: a one-line
//! change once the crate has a `main.rs`.

use crate::ports::{self, PortSpec};

pub struct Service {
    pub name: &'static str,
    pub port: PortSpec,
    /// Its configuration variables' prefix (`USERS_LISTEN_ADDR`, ...), as storefront-kit reads them.
    pub env_prefix: &'static str,
    /// The cargo binary target; `None` while the crate has none.
    pub binary: Option<&'static str>,
    /// Answers 200 once its dependencies are reachable.
    pub health_path: &'static str,
    /// A subcommand of its binary that loads demo data (idempotent), run by `up` once it is ready.
    pub seed: Option<&'static str>,
    /// Its configuration beyond `<PREFIX>_LISTEN_ADDR`: variable suffix and where the value comes from.
    pub env: &'static [(&'static str, Wire)],
}

/// Where a service's configuration value comes from on this machine.
#[derive(Debug, Clone, Copy)]
pub enum Wire {
    /// A PostgreSQL database it owns (created by `up` when missing).
    Postgres(&'static str),
    Redis,
    MongoDb,
    SearchEngine,
    /// Another service's base URL.
    Service(&'static str),
    /// The users service's JWKS document.
    Jwks,
    /// The gateway's base URL: where shoppers reach the store (links in mails point there).
    Gateway,
    /// A directory of its own under the data directory.
    Dir(&'static str),
    /// A fixed value.
    Value(&'static str),
}

/// The administrator `up` creates in the users service, for the demo store.
pub const DEMO_ADMIN_EMAIL: &str = "admin@storefront.local";
pub const DEMO_ADMIN_PASSWORD: &str = "storefront-demo-admin";

pub const SERVICES: &[Service] = &[
    Service {
        name: "users",
        port: ports::USERS,
        env_prefix: "USERS",
        binary: Some("storefront-users"),
        health_path: "/readyz",
        seed: None,
        env: &[
            ("DATABASE_URL", Wire::Postgres("users")),
            ("BOOTSTRAP_ADMIN_EMAIL", Wire::Value(DEMO_ADMIN_EMAIL)),
            ("BOOTSTRAP_ADMIN_PASSWORD", Wire::Value(DEMO_ADMIN_PASSWORD)),
            ("PUBLIC_URL", Wire::Gateway),
            // No SMTP server locally: mails are written there as `.eml` files.
            ("MAIL_DIR", Wire::Dir("mail")),
        ],
    },
    Service {
        name: "catalog",
        port: ports::CATALOG,
        env_prefix: "CATALOG",
        binary: Some("storefront-catalog"),
        health_path: "/readyz",
        seed: Some("seed"),
        env: &[
            ("MONGODB_URL", Wire::MongoDb),
            ("LEDGER_DATABASE_URL", Wire::Postgres("catalog")),
            ("JWKS_URL", Wire::Jwks),
            ("IMAGES_DIR", Wire::Dir("images")),
        ],
    },
    Service {
        name: "cart",
        port: ports::CART,
        env_prefix: "CART",
        binary: Some("storefront-cart"),
        health_path: "/readyz",
        seed: Some("seed"),
        env: &[
            ("REDIS_URL", Wire::Redis),
            ("DATABASE_URL", Wire::Postgres("orders")),
            ("CATALOG_URL", Wire::Service("catalog")),
            ("JWKS_URL", Wire::Jwks),
            // Webhook receivers on this machine (a local tool on 127.0.0.1) are allowed here;
            // a deployed store refuses private targets unless it opts in.
            ("WEBHOOKS_ALLOW_PRIVATE_TARGETS", Wire::Value("true")),
        ],
    },
    Service {
        name: "search",
        port: ports::SEARCH,
        env_prefix: "SEARCH",
        binary: Some("storefront-search"),
        health_path: "/readyz",
        seed: None,
        env: &[
            ("ELASTICSEARCH_URL", Wire::SearchEngine),
            ("CATALOG_URL", Wire::Service("catalog")),
            ("JWKS_URL", Wire::Jwks),
        ],
    },
];

pub fn by_name(name: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.name == name)
}

/// Whether the service is up and ready right now.
pub fn is_ready(service: &Service) -> bool {
    service
        .port
        .get()
        .is_ok_and(|port| crate::probe::http_ok(port, service.health_path))
}
