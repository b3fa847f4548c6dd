//! Every way a backup or a restore can fail, each rendered as one line for the operator's logs.

use storefront_kit::ConfigError;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("there is no backup under {0} yet")]
    NoBackups(String),
    #[error("there is no backup {0}")]
    NotFound(String),
    #[error("{0:?} is not a backup name (expected `latest` or a name listed by `list`)")]
    BadName(String),
    #[error("{tool} could not be started: {source}")]
    Spawn {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}): {message}")]
    Tool {
        tool: &'static str,
        status: String,
        message: String,
    },
    #[error("the backup {name} is not a valid {kind} backup: {reason}")]
    Corrupt {
        name: String,
        kind: &'static str,
        reason: String,
    },
    #[error("the MongoDB database: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error(
        "the database {database} is not empty ({collections} collections); restore into an empty database or pass --replace"
    )]
    NotEmpty {
        database: String,
        collections: usize,
    },
    /// The storage stopped taking the dump; its own error says why.
    #[error("the upload stopped before the dump ended")]
    UploadStopped,
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}
