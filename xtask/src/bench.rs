//! `cargo xtask bench <target>`: load figures printed by a benchmark program (release build) against
//! the real backing services, which are started when missing and left running like `up` leaves them.

use anyhow::Result;

use crate::cargo;
use crate::parts::Ctx;
use crate::stack;
use crate::ui;

/// Runs `cargo run --release -p <package> --example <example>` with the backing services' addresses.
pub fn example(package: &str, example: &str) -> Result<()> {
    example_with_binaries(package, example, &[])
}

/// Like [`example`], after building the release binaries of `binaries` (packages whose service the
/// benchmark starts as a process).
pub fn example_with_binaries(package: &str, example: &str, binaries: &[&str]) -> Result<()> {
    let ctx = Ctx::new()?;
    for binary in binaries {
        cargo::run(cargo::command(
            &ctx.paths,
            &["build", "--release", "-p", binary, "--bin", binary],
        ))?;
    }
    stack::ensure_backing(&ctx, &stack::backing_parts(), &mut Vec::new())?;
    let mut command = cargo::command(
        &ctx.paths,
        &["run", "--release", "-p", package, "--example", example],
    );
    stack::backing_env(&mut command)?;
    cargo::run(command)?;
    println!("(the backing services keep running; `cargo xtask down` stops them)");
    Ok(())
}

/// `cargo xtask bench ui`: the whole stack up (as `up` leaves it), the UI built, then the browser figures.
pub fn ui() -> Result<()> {
    let ctx = Ctx::new()?;
    stack::ensure_stack(&ctx)?;
    ui::bench(&ctx)?;
    println!("(the stack keeps running; `cargo xtask down` stops it)");
    Ok(())
}
