//! The operator's error type.

use crate::children::secret::RandomError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[from] kube::Error),

    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    #[error("{0}")]
    Random(#[from] RandomError),

    #[error("object has no {0}")]
    MissingField(&'static str),

    #[error("leader election failed: {0}")]
    LeaderElection(#[from] kube_lease_manager::LeaseManagerError),

    #[error("invalid setting {name}: {reason}")]
    Setting { name: &'static str, reason: String },

    #[error("metrics: {0}")]
    Metrics(String),

    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// A short, bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube(_) => "kube",
            Error::InvalidSpec(_) => "invalid_spec",
            Error::Random(_) => "random",
            Error::MissingField(_) => "missing_field",
            Error::LeaderElection(_) => "leader_election",
            Error::Setting { .. } => "setting",
            Error::Metrics(_) => "metrics",
            Error::Io(_) => "io",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
