//! The Storefront operator: turns a `Storefront` resource into a running store.
//!
//! Pipeline per object ([`reconcile`]): validate → build children with the pure builders in
//! [`children`] → server-side apply them, owned by the Storefront → write `status`.
//! [`operator::run`] adds leader election around the [`controller`].

pub mod apply;
pub mod backoff;
pub mod backup_health;
pub mod children;
pub mod component;
pub mod controller;
pub mod crd;
pub mod crdgen;
pub mod error;
pub mod meta;
pub mod metrics;
pub mod operator;
pub mod reconcile;
pub mod report;
pub mod rollout;
pub mod schedule;
pub mod status;
pub mod store_metrics;
pub mod validate;

pub use controller::Scope;
pub use crd::{Storefront, StorefrontSpec, StorefrontStatus};
pub use error::Error;
pub use operator::{Settings, run};
