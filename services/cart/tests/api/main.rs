//! Cart service tests against real Redis, PostgreSQL and a real catalog (started by
//! `cargo xtask up`).

mod breaker;
mod carts;
mod checkout;
mod common;
mod events;
mod orders;
mod recovery;
