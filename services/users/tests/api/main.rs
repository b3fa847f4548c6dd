//! Integration tests of the users service against the real PostgreSQL server.

mod common;
mod mail_sink;

mod accounts;
mod addresses;
mod admin;
mod input;
mod jwks;
mod mail_outbox;
mod recovery;
mod sessions;
mod throttle;
mod token_attacks;
