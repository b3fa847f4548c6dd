//! The `storefront-backup` binary against the real local PostgreSQL, MongoDB-wire server, Redis and
//! S3-compatible store: back up, wipe, restore, and compare every row and document.

mod catalog;
mod common;
mod failures;
mod postgres;
mod redis;
mod retention;
