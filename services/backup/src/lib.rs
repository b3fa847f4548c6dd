//! Backups and restores of a store's databases. `backup <kind>` dumps one database, stores it as
//! `<store>/<database>/<UTC timestamp>.<ext>` in a bucket or directory and prunes to the retention;
//! `restore <kind> <name|latest>` puts one back. Both stream, so memory stays at a few upload
//! parts whatever the database's size.

pub mod config;
pub mod documents;
pub mod error;
pub mod names;
pub mod pipe;
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
    pub bytes: u64,
    pub pruned: Vec<String>,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub key: String,
    pub bytes: u64,
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
        Target::S3(settings) => Storage::S3 {
            bucket: Box::new(S3Bucket::new(settings, SIGNATURE_TTL).map_err(StorageError::from)?),
            part_size: config.part_size,
        },
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

/// What a backup reads from.
enum Origin<'a> {
    Postgres(&'a str),
    Documents(mongodb::Database),
    Redis(&'a str),
}

impl Origin<'_> {
    /// Dumps into `sink`, finishing it only when the dump is complete.
    async fn dump(&self, sink: pipe::Sink) -> Result<(), Error> {
        match self {
            Origin::Postgres(url) => postgres::dump(url, sink).await,
            Origin::Documents(db) => documents::dump(db, sink).await,
            Origin::Redis(url) => redis::dump(url, sink).await,
        }
    }
}

/// Dumps the database straight into the storage, then prunes older backups beyond the retention.
/// A dump that fails stores nothing and prunes nothing.
pub async fn backup(config: &Config, kind: Kind) -> Result<BackupReport, Error> {
    let origin = match kind {
        Kind::Postgres => Origin::Postgres(required(&config.postgres_url, "BACKUP_POSTGRES_URL")?),
        Kind::Documents => Origin::Documents(mongodb(config).await?),
        Kind::Redis => Origin::Redis(required(&config.redis_url, "BACKUP_REDIS_URL")?),
    };
    let storage = open(config)?;
    let folder = folder(config, kind);
    let key = format!(
        "{folder}{}.{}",
        names::timestamp(chrono::Utc::now()),
        kind.extension()
    );
    let (sink, dump) = pipe::pipe();
    let (dumped, stored) = tokio::join!(origin.dump(sink), storage.put_stream(&key, dump));
    let size = match (dumped, stored) {
        (Ok(()), Ok(size)) => size,
        // The storage failed and the dump stopped for that reason.
        (Ok(()) | Err(Error::UploadStopped), Err(e)) => return Err(e.into()),
        // The dump failed: the storage stopped at its unfinished end, and the tool says why.
        (Err(e), _) => return Err(e),
    };
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

/// Where a restore writes.
enum Destination<'a> {
    Postgres(&'a str),
    Documents(mongodb::Database),
    Redis(&'a std::path::Path),
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
    let destination = match kind {
        Kind::Postgres => {
            Destination::Postgres(required(&config.postgres_url, "BACKUP_POSTGRES_URL")?)
        }
        Kind::Documents => Destination::Documents(mongodb(config).await?),
        Kind::Redis => Destination::Redis(options.output.as_deref().ok_or_else(|| {
            Error::Config(ConfigError::Missing(
                "--output (where to write the RDB file)".to_owned(),
            ))
        })?),
    };
    let download = storage
        .get_stream(&key)
        .await?
        .ok_or_else(|| Error::NotFound(key.clone()))?;
    let mut backup = pipe::Counted::new(download);
    match destination {
        Destination::Postgres(url) => postgres::restore(url, &key, &mut backup).await?,
        Destination::Documents(db) => {
            documents::restore(&db, &key, &mut backup, options.replace).await?;
        }
        Destination::Redis(output) => redis::restore(output, &key, &mut backup).await?,
    }
    Ok(RestoreReport {
        key,
        bytes: backup.count(),
    })
}
