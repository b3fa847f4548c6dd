//! An S3-compatible object store on the local file system (s3s-fs, from crates.io, built once per
//! machine with `cargo install`): the S3 target that tests exercise the catalog's S3 image store and
//! backups against. Requests must be signed (SigV4) with the local key pair below.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use super::{Ctx, Part, ensure_cached};
use crate::ports::{self, PortSpec};
use crate::probe;
use crate::process;

/// The crate and version installed; the cache key follows it.
const CRATE: &str = "s3s-fs";
const VERSION: &str = "0.14.1";
/// The local store's credentials (loopback only; never used anywhere else).
pub const ACCESS_KEY: &str = "storefront";
pub const SECRET_KEY: &str = "storefront-local-secret";

pub struct ObjectStore;

/// The endpoint clients use (path-style addressing).
pub fn url() -> Result<String> {
    Ok(format!("http://127.0.0.1:{}", ports::S3.get()?))
}

fn binary(ctx: &Ctx) -> Result<PathBuf> {
    let key = format!("{CRATE}-{VERSION}");
    let dir = ensure_cached(ctx, &key, &["bin/s3s-fs"], "build the S3 store", |out| {
        let mut install = Command::new("cargo");
        install
            .args(["install", CRATE, "--version"])
            .arg(format!("={VERSION}"))
            .args(["--features", "binary", "--locked", "--no-track", "--root"])
            .arg(out)
            .env("CARGO_TARGET_DIR", ctx.paths.part(&format!("{key}.target")));
        Ok(install)
    })?;
    Ok(dir.join("bin/s3s-fs"))
}

impl Part for ObjectStore {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn ports(&self) -> Vec<PortSpec> {
        vec![ports::S3]
    }

    fn process_hint(&self) -> &'static str {
        "s3s-fs"
    }

    fn healthy(&self, _ctx: &Ctx) -> bool {
        // Any HTTP answer will do: an unsigned request is refused, which proves it serves.
        ports::S3
            .get()
            .is_ok_and(|port| probe::http_get(port, "/").is_ok())
    }

    fn prepare(&self, ctx: &Ctx) -> Result<()> {
        binary(ctx).map(|_| ())
    }

    fn start(&self, ctx: &Ctx) -> Result<u32> {
        let root = ctx.paths.data.join("s3");
        std::fs::create_dir_all(&root)?;
        let mut server = Command::new(binary(ctx)?);
        server
            .args(["--host", "127.0.0.1", "--port"])
            .arg(ports::S3.get()?.to_string())
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&root)
            .env("RUST_LOG", "warn");
        let child = process::spawn_server(&mut server, &ctx.paths.log_file(self.name()))?;
        Ok(child.id())
    }
}
