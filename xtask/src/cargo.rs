//! Child cargo commands: the same cargo that runs xtask, a target directory outside the clone (so fresh
//! clones and CI reuse builds), and no incremental compilation in CI.

use std::process::Command;

use anyhow::{Result, bail};

use crate::paths::Paths;

pub fn command(paths: &Paths, args: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(args)
        .current_dir(&paths.repo)
        .env("CARGO_TARGET_DIR", paths.cargo_target_dir());
    if std::env::var_os("CI").is_some() {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

/// Runs a cargo command with inherited output; fails when it fails.
pub fn run(mut command: Command) -> Result<()> {
    let status = command.status()?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}
