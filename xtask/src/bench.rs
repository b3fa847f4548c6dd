//! `cargo xtask bench <target>`: load figures printed by a benchmark program (release build) against
//! the real backing services, which are started when missing and left running like `up` leaves them.

use anyhow::Result;

use crate::cargo;
use crate::parts::{self, Ctx, ferretdb, opensearch, postgres, redis};
use crate::stack;

/// Runs `cargo run --release -p <package> --example <example>` with the backing services' addresses.
pub fn example(package: &str, example: &str) -> Result<()> {
    let ctx = Ctx::new()?;
    let backing = stack::backing_parts();
    stack::ensure_packages(&ctx, &backing)?;
    for part in &backing {
        let outcome = parts::ensure_running(part.as_ref(), &ctx)?;
        parts::print_outcome(part.as_ref(), &outcome);
    }
    let mut command = cargo::command(
        &ctx.paths,
        &["run", "--release", "-p", package, "--example", example],
    );
    command
        .env("STOREFRONT_POSTGRES_URL", postgres::url("postgres")?)
        .env("STOREFRONT_REDIS_URL", redis::url()?)
        .env("STOREFRONT_MONGODB_URL", ferretdb::url()?)
        .env("STOREFRONT_OPENSEARCH_URL", opensearch::url()?);
    cargo::run(command)?;
    println!("(the backing services keep running; `cargo xtask down` stops them)");
    Ok(())
}
