//! Integration tests of the users service against the real PostgreSQL server.

mod common;

mod accounts;
mod addresses;
mod admin;
mod input;
mod jwks;
mod sessions;
mod throttle;
mod token_attacks;
