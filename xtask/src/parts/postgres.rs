//! PostgreSQL 15 (Debian's server binaries): one cluster in the data directory, superuser `storefront`,
//! trust authentication on 127.0.0.1 only (no Unix socket).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Result, bail};
use nix::sys::signal::Signal;

use super::{Ctx, Part};
use crate::ports::{self, PortSpec};
use crate::process;
use crate::system::{self, Package};

/// The superuser initdb creates; tests and services connect as it.
pub const SUPERUSER: &str = "storefront";

pub struct Postgres;

impl Postgres {
    fn cluster_dir(ctx: &Ctx) -> PathBuf {
        ctx.paths.data.join("postgres/data")
    }

    fn bin(tool: &str) -> PathBuf {
        PathBuf::from(system::POSTGRES_BIN).join(tool)
    }
}

/// A connection URL for `database` on the local server.
pub fn url(database: &str) -> Result<String> {
    Ok(format!(
        "postgres://{SUPERUSER}@127.0.0.1:{}/{database}",
        ports::POSTGRES.get()?
    ))
}

/// Creates `database` unless it exists.
pub fn ensure_database(database: &str) -> Result<()> {
    if !database
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("unexpected database name {database:?}");
    }
    let port = ports::POSTGRES.get()?.to_string();
    let psql = |sql: &str| {
        process::run_quiet(
            Command::new(Postgres::bin("psql"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    SUPERUSER,
                    "-d",
                    "postgres",
                ])
                .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql]),
        )
    };
    let exists = psql(&format!(
        "SELECT 1 FROM pg_database WHERE datname = '{database}'"
    ))?;
    if exists.trim() != "1" {
        psql(&format!("CREATE DATABASE \"{database}\""))?;
        println!("  postgres: created database {database}");
    }
    Ok(())
}

/// The real local node's pod network (its CNI range).
pub const POD_NETWORK: &str = "10.88.0.0/16";

/// Lets pods of the real node in with a password (loopback stays `trust`): each store connects
/// as its own role.
fn admit_pods(cluster: &std::path::Path) -> Result<()> {
    let hba = cluster.join("pg_hba.conf");
    let text = std::fs::read_to_string(&hba)?;
    let line = format!("host all all {POD_NETWORK} scram-sha-256");
    if !text.lines().any(|l| l.trim() == line) {
        std::fs::write(
            &hba,
            format!("{text}\n# pods of the real local node\n{line}\n"),
        )?;
    }
    Ok(())
}

impl Part for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn ports(&self) -> Vec<PortSpec> {
        vec![ports::POSTGRES]
    }

    fn process_hint(&self) -> &'static str {
        "postgres"
    }

    fn packages(&self, _ctx: &Ctx) -> Vec<&'static Package> {
        vec![&system::POSTGRESQL]
    }

    fn healthy(&self, _ctx: &Ctx) -> bool {
        let Ok(port) = ports::POSTGRES.get() else {
            return false;
        };
        Command::new(Self::bin("pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                SUPERUSER,
            ])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn prepare(&self, ctx: &Ctx) -> Result<()> {
        let cluster = Self::cluster_dir(ctx);
        if cluster.join("PG_VERSION").exists() {
            return Ok(());
        }
        // initdb creates the cluster directory itself; its parent must belong to the server's user.
        let parent = ctx.paths.data.join("postgres");
        ctx.runner.own_dir(&parent)?;
        let mut initdb = Command::new(Self::bin("initdb"));
        initdb
            .arg("-D")
            .arg(&cluster)
            .args([
                "--auth=trust",
                "-U",
                SUPERUSER,
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .current_dir(&parent);
        ctx.runner.apply(&mut initdb);
        process::run_step("initdb", &mut initdb, &ctx.paths.log_file(self.name()))
    }

    fn start(&self, ctx: &Ctx) -> Result<u32> {
        let port = ports::POSTGRES.get()?;
        let listen = match ports::node_address()? {
            Some(node) => {
                admit_pods(&Self::cluster_dir(ctx))?;
                format!("127.0.0.1,{node}")
            }
            None => "127.0.0.1".to_string(),
        };
        let mut postgres = Command::new(Self::bin("postgres"));
        postgres
            .arg("-D")
            .arg(Self::cluster_dir(ctx))
            .args(["-p", &port.to_string(), "-h", &listen])
            .args([
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=200",
            ])
            .current_dir(Self::cluster_dir(ctx));
        ctx.runner.apply(&mut postgres);
        let child = process::spawn_server(&mut postgres, &ctx.paths.log_file(self.name()))?;
        Ok(child.id())
    }

    /// SIGINT is PostgreSQL's "fast" shutdown; SIGTERM would wait for every client to disconnect.
    fn stop_signal(&self) -> Signal {
        Signal::SIGINT
    }

    fn ready_timeout(&self) -> Duration {
        Duration::from_secs(60)
    }
}
