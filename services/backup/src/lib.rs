//! Backups and restores of a store's databases. `backup <kind>` dumps one database, stores it as
//! `<store>/<database>/<UTC timestamp>.<ext>` in a bucket or directory and prunes to the retention;
//! `restore <kind> <name|latest>` puts one back.

pub mod config;
pub mod documents;
pub mod error;
pub mod names;
pub mod postgres;
pub mod process;
pub mod redis;
pub mod storage;

use std::path::PathBuf;

use storefront_kit::ConfigError;

pub use config::{Config, Target};
pub use error::Error;
use storage::{SIGNATURE_TTL, Storage, StorageError};
use storefront_kit::s3::S3Bucket;

/// What kind of database a backup is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A PostgreSQL database (`pg_dump` / `pg_restore`).
    Postgres,
    /// The catalog's MongoDB database.
    Documents,
    /// A Redis server's RDB snapshot.
    Redis,
}

impl Kind {
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Postgres => postgres::EXTENSION,
            Kind::Documents => documents::EXTENSION,
            Kind::Redis => redis::EXTENSION,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Documents => "documents",
            Kind::Redis => "redis",
        }
    }
}

/// What a backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub key: String,
    pub bytes: usize,
    pub pruned: Vec<String>,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub key: String,
    pub bytes: usize,
}

/// Options of `restore`.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Drop a non-empty documents database's collections first.
    pub replace: bool,
    /// Where `restore redis` writes the RDB file.
    pub output: Option<PathBuf>,
}

fn open(config: &Config) -> Result<Storage, Error> {
    Ok(match &config.target {
        Target::S3(settings) => Storage::S3(Box::new(
            S3Bucket::new(settings, SIGNATURE_TTL).map_err(StorageError::from)?,
        )),
        Target::Directory(dir) => Storage::Directory(dir.clone()),
    })
}

fn folder(config: &Config, kind: Kind) -> String {
    names::folder(
        &config.store,
        config.database.as_deref().unwrap_or(kind.name()),
    )
}

fn required<'a>(value: &'a Option<String>, var: &str) -> Result<&'a str, Error> {
    value
        .as_deref()
        .ok_or_else(|| Error::Config(ConfigError::Missing(var.to_owned())))
}

async fn mongodb(config: &Config) -> Result<mongodb::Database, Error> {
    let url = required(&config.mongodb_url, "BACKUP_MONGODB_URL")?;
    let mut options = mongodb::options::ClientOptions::parse(url).await?;
    options.app_name = Some("storefront-backup".to_owned());
    options.server_selection_timeout = Some(std::time::Duration::from_secs(10));
    Ok(mongodb::Client::with_options(options)?.database(&config.mongodb_database))
}

/// Dumps the database, stores the dump, then prunes older backups beyond the retention.
pub async fn backup(config: &Config, kind: Kind) -> Result<BackupReport, Error> {
    let storage = open(config)?;
    let bytes = match kind {
        Kind::Postgres => {
            postgres::dump(required(&config.postgres_url, "BACKUP_POSTGRES_URL")?).await?
        }
        Kind::Documents => documents::dump(&mongodb(config).await?).await?,
        Kind::Redis => redis::dump(required(&config.redis_url, "BACKUP_REDIS_URL")?).await?,
    };
    let folder = folder(config, kind);
    let key = format!(
        "{folder}{}.{}",
        names::timestamp(chrono::Utc::now()),
        kind.extension()
    );
    let size = bytes.len();
    storage.put(&key, bytes).await?;
    let existing = names::backups_in(&storage.list(&folder).await?, &folder, kind.extension());
    let pruned = names::to_prune(&existing, config.retention).to_vec();
    for old in &pruned {
        storage.delete(old).await?;
    }
    Ok(BackupReport {
        key,
        bytes: size,
        pruned,
    })
}

/// This database's backups, oldest first.
pub async fn list(config: &Config, kind: Kind) -> Result<Vec<String>, Error> {
    let storage = open(config)?;
    let folder = folder(config, kind);
    Ok(names::backups_in(
        &storage.list(&folder).await?,
        &folder,
        kind.extension(),
    ))
}

/// Restores the backup named `wanted` (`latest`, a file name, or a full key).
pub async fn restore(
    config: &Config,
    kind: Kind,
    wanted: &str,
    options: &RestoreOptions,
) -> Result<RestoreReport, Error> {
    let storage = open(config)?;
    let folder = folder(config, kind);
    let existing = names::backups_in(&storage.list(&folder).await?, &folder, kind.extension());
    let key = names::resolve(&existing, &folder, wanted)?;
    let bytes = storage
        .get(&key)
        .await?
        .ok_or_else(|| Error::NotFound(key.clone()))?;
    let size = bytes.len();
    match kind {
        Kind::Postgres => {
            let url = required(&config.postgres_url, "BACKUP_POSTGRES_URL")?;
            postgres::restore(url, &key, bytes).await?;
        }
        Kind::Documents => {
            let collections = documents::parse(&bytes, &key)?;
            documents::restore(&mongodb(config).await?, collections, options.replace).await?;
        }
        Kind::Redis => {
            let output = options.output.clone().ok_or_else(|| {
                Error::Config(ConfigError::Missing(
                    "--output (where to write the RDB file)".to_owned(),
                ))
            })?;
            redis::restore(&output, &key, bytes).await?;
        }
    }
    Ok(RestoreReport { key, bytes: size })
}
