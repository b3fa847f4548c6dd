//! The catalog's HTTP API against real PostgreSQL and the MongoDB-wire server (FerretDB). Each
//! test gets its own PostgreSQL database and MongoDB database, so tests run in parallel.

mod changes;
mod common;
mod images;
mod products;
mod seed;
mod stock;
