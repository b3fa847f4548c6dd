//! Where things live: the clone, the per-machine cache (outside the clone) and the data directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

#[derive(Debug, Clone)]
pub struct Paths {
    /// The repository root (the workspace that contains `xtask/`).
    pub repo: PathBuf,
    /// `$STOREFRONT_CACHE`, default `~/.cache/storefront`: built parts, Go and Maven caches, cargo target.
    pub cache: PathBuf,
    /// `$STOREFRONT_DATA_DIR`, default `<repo>/.local`: every running part's data, config, logs and pids.
    pub data: PathBuf,
}

impl Paths {
    pub fn from_env() -> Result<Self> {
        // `cargo run` names the manifest of the checkout it was started in; the one compiled in
        // may be another checkout's when several share a target directory.
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let repo = manifest
            .parent()
            .context("xtask/ has no parent directory")?
            .to_path_buf();
        let cache = match std::env::var_os("STOREFRONT_CACHE") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                let home =
                    std::env::var_os("HOME").context("HOME is not set; set STOREFRONT_CACHE")?;
                PathBuf::from(home).join(".cache/storefront")
            }
        };
        let data = match std::env::var_os("STOREFRONT_DATA_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => repo.join(".local"),
        };
        // Absolute paths: they end up in generated configs and in other processes' working directories.
        let data = absolute(&data)?;
        let cache = absolute(&cache)?;
        Ok(Self { repo, cache, data })
    }

    /// A built or downloaded third-party part, keyed by name and version.
    pub fn part(&self, name_and_version: &str) -> PathBuf {
        self.cache.join("parts").join(name_and_version)
    }

    pub fn pid_file(&self, part: &str) -> PathBuf {
        self.data.join("run").join(format!("{part}.pid"))
    }

    pub fn log_file(&self, part: &str) -> PathBuf {
        self.data.join("logs").join(format!("{part}.log"))
    }

    /// The cargo target directory for child cargo commands: `$CARGO_TARGET_DIR`, else one in the cache,
    /// so a fresh clone and CI reuse earlier builds.
    pub fn cargo_target_dir(&self) -> PathBuf {
        match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => self.cache.join("target"),
        }
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot make {} absolute", path.display()))
}
