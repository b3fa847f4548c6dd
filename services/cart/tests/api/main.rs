//! Cart service tests against real Redis, PostgreSQL and a real catalog (started by
//! `cargo xtask up`).

mod breaker;
mod cancellation;
mod carts;
mod checkout;
mod common;
mod crash;
mod events;
mod lifecycle;
mod openapi;
mod orders;
mod pricing;
mod recovery;
mod summary;
mod webhooks;
