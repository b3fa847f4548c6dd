//! FerretDB v1 (MongoDB wire protocol) on the local PostgreSQL, built once per machine from the Go
//! module proxy by `local/ferretdb/build.sh` (the version is pinned in `local/ferretdb/go.mod`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use super::{Ctx, Part, ensure_cached, go_mod_version, postgres};
use crate::ports::{self, PortSpec};
use crate::probe;
use crate::process;
use crate::system;

/// The PostgreSQL database FerretDB keeps its collections in.
const BACKEND_DATABASE: &str = "ferretdb";

pub struct FerretDb;

/// The URL clients use.
pub fn url() -> Result<String> {
    Ok(format!("mongodb://127.0.0.1:{}", ports::FERRETDB.get()?))
}

/// The cached binary, built when missing.
fn binary(ctx: &Ctx) -> Result<PathBuf> {
    let module = ctx.paths.repo.join("local/ferretdb");
    let version = go_mod_version(&module.join("go.mod"), "github.com/FerretDB/FerretDB")?;
    let key = format!("ferretdb-{version}");
    let dir = ensure_cached(ctx, &key, &["ferretdb"], "build FerretDB", |out| {
        system::require_go()?;
        let mut build = Command::new("bash");
        build.arg(module.join("build.sh")).arg(out);
        Ok(build)
    })?;
    Ok(dir.join("ferretdb"))
}

impl Part for FerretDb {
    fn name(&self) -> &'static str {
        "ferretdb"
    }

    fn ports(&self) -> Vec<PortSpec> {
        vec![ports::FERRETDB]
    }

    fn process_hint(&self) -> &'static str {
        "ferretdb"
    }

    fn healthy(&self, _ctx: &Ctx) -> bool {
        ports::FERRETDB.get().is_ok_and(probe::mongodb_ping)
    }

    fn prepare(&self, ctx: &Ctx) -> Result<()> {
        binary(ctx)?;
        postgres::ensure_database(BACKEND_DATABASE)
    }

    fn start(&self, ctx: &Ctx) -> Result<u32> {
        // Its working directory holds the state.json FerretDB writes.
        let dir = ctx.paths.data.join("ferretdb");
        std::fs::create_dir_all(&dir)?;
        let mut ferretdb = Command::new(binary(ctx)?);
        // It takes one listen address: all of them when pods of the real node must reach it.
        let host = if ports::node_address()?.is_some() {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        };
        ferretdb
            .arg("-listen-addr")
            .arg(format!("{host}:{}", ports::FERRETDB.get()?))
            .arg("-postgresql-url")
            .arg(postgres::url(BACKEND_DATABASE)?)
            .args(["-log-level", "warn"])
            .current_dir(&dir);
        let child = process::spawn_server(&mut ferretdb, &ctx.paths.log_file(self.name()))?;
        Ok(child.id())
    }
}
