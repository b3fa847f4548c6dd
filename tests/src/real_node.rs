//! A store on the real local node (`cargo xtask cluster up --real-node`) whose databases are the
//! host's (`cargo xtask up`): what the end-to-end test and `cargo xtask cluster store` share.
//!
//! Each store is isolated on the shared servers: its own PostgreSQL role with a generated
//! password owning its own databases (`<prefix>users`, `<prefix>orders`, `<prefix>catalog`), the
//! same role behind its MongoDB database (FerretDB passes the client's credentials on to
//! PostgreSQL), and its own Redis key prefix and index alias (those servers run without
//! accounts here). The Secrets the Storefront's `external` entries name are written here, owned
//! by the Storefront, so deleting the store deletes them.

use std::error::Error;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::{mongodb_url, opensearch_url, postgres_url, redis_url};

pub type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// The PostgreSQL databases of a store.
pub const POSTGRES_DATABASES: [&str; 3] = ["users", "orders", "catalog"];
/// FerretDB's PostgreSQL database.
const FERRETDB_BACKEND: &str = "ferretdb";

/// `kubectl` against the local control plane.
#[derive(Debug, Clone)]
pub struct Kubectl {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
}

impl Kubectl {
    /// From `STOREFRONT_KUBE_BIN` and `STOREFRONT_KUBECONFIG`.
    pub fn from_env() -> Option<Self> {
        Some(Self {
            bin: PathBuf::from(std::env::var_os("STOREFRONT_KUBE_BIN")?).join("kubectl"),
            kubeconfig: PathBuf::from(std::env::var_os("STOREFRONT_KUBECONFIG")?),
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .args(args);
        command
    }

    /// Runs kubectl; its output, or an error with what it said.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let output = self.command(args).stdin(Stdio::null()).output()?;
        if !output.status.success() {
            return Err(format!(
                "kubectl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `kubectl <args> -o json`, parsed.
    pub fn json(&self, args: &[&str]) -> Result<Value> {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        Ok(serde_json::from_str(&self.run(&all)?)?)
    }

    /// `kubectl apply --server-side -f -` of one object.
    pub fn apply(&self, object: &Value) -> Result<Value> {
        let mut child = self
            .command(&[
                "apply",
                "--server-side",
                "--force-conflicts",
                "--field-manager=storefront-local",
                "-o",
                "json",
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or("kubectl has no stdin")?
            .write_all(serde_json::to_string(object)?.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            return Err(format!(
                "kubectl apply: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }
}

/// One `external` database of the manifest.
#[derive(Debug, Clone)]
pub struct External {
    pub secret: String,
    pub prefix: String,
}

/// The parts of a Storefront manifest this module acts on.
#[derive(Debug, Clone)]
pub struct StoreManifest {
    pub object: Value,
    pub name: String,
    pub namespace: String,
    pub postgres: External,
    pub redis: External,
    pub mongodb: External,
    pub opensearch: External,
}

impl StoreManifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let object: Value = serde_yaml::from_str(&text)?;
        Self::from_object(object)
    }

    pub fn from_object(object: Value) -> Result<Self> {
        let text = |pointer: &str| -> Result<String> {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("the manifest has no {pointer}").into())
        };
        let external = |db: &str| -> Result<External> {
            Ok(External {
                secret: text(&format!("/spec/databases/{db}/external/secretRef/name"))?,
                prefix: text(&format!("/spec/databases/{db}/external/prefix"))?,
            })
        };
        Ok(Self {
            name: text("/metadata/name")?,
            namespace: text("/metadata/namespace").unwrap_or_else(|_| "default".into()),
            postgres: external("postgres")?,
            redis: external("redis")?,
            mongodb: external("mongodb")?,
            opensearch: external("opensearch")?,
            object,
        })
    }

    /// The same store under another name, namespace and database prefix (a test's own copy).
    pub fn renamed(&self, namespace: &str, prefix: &str) -> Result<Self> {
        let mut object = self.object.clone();
        object["metadata"]["namespace"] = json!(namespace);
        for db in ["postgres", "redis", "mongodb", "opensearch"] {
            object["spec"]["databases"][db]["external"]["prefix"] = json!(prefix);
        }
        Self::from_object(object)
    }

    /// The PostgreSQL role (and FerretDB user) of the store.
    pub fn role(&self) -> String {
        format!("{}app", self.postgres.prefix)
    }

    /// The manifest with the release to run.
    pub fn with_release(&self, registry: &str, tag: &str) -> Value {
        let mut object = self.object.clone();
        object["spec"]["version"] = json!(tag);
        object["spec"]["image"]["registry"] = json!(registry);
        object
    }
}

/// The host's databases as pods reach them.
#[derive(Debug, Clone)]
pub struct HostDatabases {
    pub address: Ipv4Addr,
    pub postgres_port: u16,
    pub redis_port: u16,
    pub ferretdb_port: u16,
    pub opensearch_port: u16,
}

fn port_of(url: &str) -> Result<u16> {
    reqwest::Url::parse(url)?
        .port()
        .ok_or_else(|| format!("{url} names no port").into())
}

impl HostDatabases {
    /// `address` is the node's address; ports from the same variables the tests use.
    pub fn new(address: Ipv4Addr) -> Result<Self> {
        Ok(Self {
            address,
            postgres_port: port_of(&postgres_url())?,
            redis_port: port_of(&redis_url())?,
            ferretdb_port: port_of(&mongodb_url())?,
            opensearch_port: port_of(&opensearch_url())?,
        })
    }
}

fn quoted(identifier: &str) -> Result<String> {
    if identifier
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(format!("\"{identifier}\""))
    } else {
        Err(format!("unexpected identifier {identifier:?}").into())
    }
}

fn superuser_url(database: &str) -> Result<String> {
    let mut url = reqwest::Url::parse(&postgres_url())?;
    url.set_path(&format!("/{database}"));
    Ok(url.to_string())
}

/// A new password: 32 hex characters from the OS generator.
fn generate_password() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The password already in the store's PostgreSQL Secret, if it exists.
pub fn existing_password(kubectl: &Kubectl, store: &StoreManifest) -> Option<String> {
    let secret = kubectl
        .json(&[
            "get",
            "secret",
            &store.postgres.secret,
            "-n",
            &store.namespace,
        ])
        .ok()?;
    let encoded = secret.pointer("/data/password")?.as_str()?;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Creates (or keeps) the store's role and databases with `password`.
pub async fn prepare_databases(store: &StoreManifest, password: &str) -> Result<()> {
    let role = quoted(&store.role())?;
    let mut admin = PgConnection::connect(&superuser_url("postgres")?).await?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_roles WHERE rolname = $1")
        .bind(store.role())
        .fetch_optional(&mut admin)
        .await?;
    // The password is hex, so it is safe inside the literal.
    let verb = if exists.is_some() { "ALTER" } else { "CREATE" };
    sqlx::query(AssertSqlSafe(format!(
        "{verb} ROLE {role} LOGIN PASSWORD '{password}'"
    )))
    .execute(&mut admin)
    .await?;
    for database in POSTGRES_DATABASES {
        let name = format!("{}{database}", store.postgres.prefix);
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut admin)
                .await?;
        if exists.is_none() {
            sqlx::query(AssertSqlSafe(format!(
                "CREATE DATABASE {} OWNER {role}",
                quoted(&name)?
            )))
            .execute(&mut admin)
            .await?;
        }
    }
    // FerretDB keeps each MongoDB database as a schema of its backend database, created with the
    // client's own credentials.
    sqlx::query(AssertSqlSafe(format!(
        "GRANT CONNECT, CREATE ON DATABASE {} TO {role}",
        quoted(FERRETDB_BACKEND)?
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await?;
    Ok(())
}

fn secret(store: &StoreManifest, owner: &Value, name: &str, data: [(&str, String); 4]) -> Value {
    let data: serde_json::Map<String, Value> = data
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": store.namespace,
            "labels": {
                "app.kubernetes.io/instance": store.name,
                "app.kubernetes.io/part-of": "storefront",
                "app.kubernetes.io/managed-by": "storefront-local",
            },
            "ownerReferences": [{
                "apiVersion": "storefront.dev/v1alpha1",
                "kind": "Storefront",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
            }],
        },
        "type": "Opaque",
        "stringData": data,
    })
}

/// Applies the store with the given release, prepares its databases and writes its Secrets.
/// Returns the applied Storefront.
pub async fn deploy(
    kubectl: &Kubectl,
    store: &StoreManifest,
    host: &HostDatabases,
    registry: &str,
    tag: &str,
) -> Result<Value> {
    if kubectl
        .run(&["get", "namespace", &store.namespace])
        .is_err()
    {
        kubectl.run(&["create", "namespace", &store.namespace])?;
    }
    let password = existing_password(kubectl, store).unwrap_or_else(generate_password);
    prepare_databases(store, &password).await?;
    let applied = kubectl.apply(&store.with_release(registry, tag))?;
    let address = host.address.to_string();
    let role = store.role();
    let secrets = [
        secret(
            store,
            &applied,
            &store.postgres.secret,
            [
                ("host", address.clone()),
                ("port", host.postgres_port.to_string()),
                ("username", role.clone()),
                ("password", password.clone()),
            ],
        ),
        secret(
            store,
            &applied,
            &store.mongodb.secret,
            [
                ("host", address.clone()),
                ("port", host.ferretdb_port.to_string()),
                ("username", role),
                ("password", password),
            ],
        ),
        secret(
            store,
            &applied,
            &store.redis.secret,
            [
                ("host", address.clone()),
                ("port", host.redis_port.to_string()),
                ("username", String::new()),
                ("password", String::new()),
            ],
        ),
        secret(
            store,
            &applied,
            &store.opensearch.secret,
            [
                ("host", address),
                ("port", host.opensearch_port.to_string()),
                ("username", String::new()),
                ("password", String::new()),
            ],
        ),
    ];
    for secret in &secrets {
        kubectl.apply(secret)?;
    }
    Ok(applied)
}

/// Removes what the store kept on the host's servers: its MongoDB database, PostgreSQL
/// databases and role, Redis keys and search indices.
pub async fn drop_data(store: &StoreManifest) -> Result<()> {
    let mongo = mongodb::Client::with_uri_str(mongodb_url()).await?;
    mongo
        .database(&format!("{}catalog", store.mongodb.prefix))
        .drop()
        .await?;
    let role = quoted(&store.role())?;
    let mut admin = PgConnection::connect(&superuser_url("postgres")?).await?;
    for database in POSTGRES_DATABASES {
        let name = quoted(&format!("{}{database}", store.postgres.prefix))?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await?;
    }
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_roles WHERE rolname = $1")
        .bind(store.role())
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_some() {
        let mut backend = PgConnection::connect(&superuser_url(FERRETDB_BACKEND)?).await?;
        sqlx::query(AssertSqlSafe(format!("DROP OWNED BY {role}")))
            .execute(&mut backend)
            .await?;
        backend.close().await?;
        sqlx::query(AssertSqlSafe(format!("DROP ROLE {role}")))
            .execute(&mut admin)
            .await?;
    }
    admin.close().await?;

    let redis = redis::Client::open(redis_url())?;
    let mut connection = redis.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", store.redis.prefix))
        .query_async(&mut connection)
        .await?;
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut connection)
            .await?;
    }

    let http = reqwest::Client::new();
    let indices: Vec<Value> = http
        .get(format!(
            "{}/_cat/indices/{}*?format=json",
            opensearch_url(),
            store.opensearch.prefix
        ))
        .send()
        .await?
        .json()
        .await?;
    for index in indices {
        if let Some(name) = index["index"].as_str() {
            let deleted = http
                .delete(format!("{}/{name}", opensearch_url()))
                .send()
                .await?;
            // Gone already (the search service swaps its indices) is as good as deleted.
            if deleted.status() != reqwest::StatusCode::NOT_FOUND {
                deleted.error_for_status()?;
            }
        }
    }
    Ok(())
}
