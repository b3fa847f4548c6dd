//! Shared harness for the cross-service tests: where the backing services are (the same
//! environment variables and defaults every service's own tests use), and services started
//! in-process on loopback ports with their own databases ([`stack`]).
//!
//! Tests run both under `cargo xtask test` (which sets the variables) and with a plain `cargo test`
//! against a stack started by `cargo xtask up`.

use std::path::PathBuf;

pub mod load;
pub mod proxy;
pub mod real_node;
pub mod release;
pub mod stack;

pub use storefront_kit::install_crypto_provider;
pub use storefront_kit::testing::{
    mongodb_url, opensearch_url, postgres_url, redis_url, unique_name, with_database,
};

/// The directory with kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kubectl and kwok,
/// when `cargo xtask test` made them available.
pub fn kube_bin_dir() -> Option<PathBuf> {
    std::env::var_os("STOREFRONT_KUBE_BIN").map(PathBuf::from)
}
