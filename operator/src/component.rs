//! What the store is made of: the five application components and the four data stores, with the
//! facts about each that the builders need (names, ports, routes, who may talk to whom).

use crate::crd::{ComponentSpec, DatabaseSpec, StorefrontSpec};

/// Port every component serves HTTP on inside its pod.
pub const HTTP_PORT: i32 = 8080;

/// An application component, run as a Deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    Catalog,
    Cart,
    Users,
    Search,
    StoreUi,
}

impl Component {
    pub const ALL: [Component; 5] = [
        Component::Catalog,
        Component::Cart,
        Component::Users,
        Component::Search,
        Component::StoreUi,
    ];

    /// Name used in object names, labels and image names.
    pub fn name(self) -> &'static str {
        match self {
            Component::Catalog => "catalog",
            Component::Cart => "cart",
            Component::Users => "users",
            Component::Search => "search",
            Component::StoreUi => "store-ui",
        }
    }

    /// Prefix of the component's configuration environment variables.
    pub fn env_prefix(self) -> &'static str {
        match self {
            Component::Catalog => "CATALOG",
            Component::Cart => "CART",
            Component::Users => "USERS",
            Component::Search => "SEARCH",
            Component::StoreUi => "STORE_UI",
        }
    }

    /// `app.kubernetes.io/component` value.
    pub fn role(self) -> &'static str {
        match self {
            Component::StoreUi => "frontend",
            _ => "api",
        }
    }

    /// Fewest replicas when autoscaling is on and `minReplicas` is unset: two for the APIs, so
    /// one pod can be drained or restarted while the other serves; one for the static store UI.
    pub fn default_min_replicas(self) -> i32 {
        match self {
            Component::StoreUi => 1,
            _ => 2,
        }
    }

    /// Path prefix the gateway routes to this component.
    pub fn route(self) -> &'static str {
        match self {
            Component::Catalog => "/api/catalog",
            Component::Cart => "/api/cart",
            Component::Users => "/api/users",
            Component::Search => "/api/search",
            Component::StoreUi => "/",
        }
    }

    pub fn spec(self, spec: &StorefrontSpec) -> &ComponentSpec {
        let c = &spec.components;
        match self {
            Component::Catalog => &c.catalog,
            Component::Cart => &c.cart,
            Component::Users => &c.users,
            Component::Search => &c.search,
            Component::StoreUi => &c.store_ui,
        }
    }
}

/// A data store, run as a StatefulSet when managed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Database {
    Postgres,
    Redis,
    Mongodb,
    Opensearch,
}

impl Database {
    pub const ALL: [Database; 4] = [
        Database::Postgres,
        Database::Redis,
        Database::Mongodb,
        Database::Opensearch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Database::Postgres => "postgres",
            Database::Redis => "redis",
            Database::Mongodb => "mongodb",
            Database::Opensearch => "opensearch",
        }
    }

    /// Prefix of the connection variables every consumer of this store gets.
    pub fn env_prefix(self) -> &'static str {
        match self {
            Database::Postgres => "POSTGRES",
            Database::Redis => "REDIS",
            Database::Mongodb => "MONGODB",
            Database::Opensearch => "OPENSEARCH",
        }
    }

    pub fn port(self) -> i32 {
        match self {
            Database::Postgres => 5432,
            Database::Redis => 6379,
            Database::Mongodb => 27017,
            Database::Opensearch => 9200,
        }
    }

    /// Image repository of the managed server.
    pub fn image_repository(self) -> &'static str {
        match self {
            Database::Postgres => "docker.io/library/postgres",
            Database::Redis => "docker.io/library/redis",
            Database::Mongodb => "docker.io/library/mongo",
            Database::Opensearch => "docker.io/opensearchproject/opensearch",
        }
    }

    /// Tag used when `managed.version` is unset.
    pub fn default_version(self) -> &'static str {
        match self {
            Database::Postgres => "17.6",
            Database::Redis => "7.4",
            Database::Mongodb => "8.0",
            Database::Opensearch => "2.19.3",
        }
    }

    /// Where the server keeps its data inside the container.
    pub fn data_path(self) -> &'static str {
        match self {
            Database::Postgres => "/var/lib/postgresql/data",
            Database::Redis => "/data",
            Database::Mongodb => "/data/db",
            Database::Opensearch => "/usr/share/opensearch/data",
        }
    }

    /// User name of the managed server's application account.
    pub fn managed_username(self) -> &'static str {
        match self {
            Database::Postgres | Database::Mongodb => "storefront",
            Database::Redis => "default",
            Database::Opensearch => "admin",
        }
    }

    /// The components that own data in this store: the only pods allowed to reach it.
    pub fn owners(self) -> &'static [Component] {
        match self {
            Database::Postgres => &[Component::Users, Component::Cart, Component::Catalog],
            Database::Redis => &[Component::Cart],
            Database::Mongodb => &[Component::Catalog],
            Database::Opensearch => &[Component::Search],
        }
    }

    pub fn spec(self, spec: &StorefrontSpec) -> &DatabaseSpec {
        let d = &spec.databases;
        match self {
            Database::Postgres => &d.postgres,
            Database::Redis => &d.redis,
            Database::Mongodb => &d.mongodb,
            Database::Opensearch => &d.opensearch,
        }
    }
}

impl Component {
    /// The data stores this component connects to.
    pub fn databases(self) -> Vec<Database> {
        Database::ALL
            .into_iter()
            .filter(|db| db.owners().contains(&self))
            .collect()
    }
}

/// PostgreSQL databases created in the managed server, one per owning capability.
pub const POSTGRES_DATABASES: [&str; 3] = ["users", "orders", "catalog"];
