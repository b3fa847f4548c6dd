//! The machine: Debian packages the stack needs, and the unprivileged system user that runs servers
//! which refuse root (PostgreSQL, OpenSearch) when xtask itself runs as root.

use std::fs;
use std::os::unix::fs::lchown;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use nix::unistd::{Uid, User};

use crate::process;

/// A Debian package and a file that exists once it is installed.
pub struct Package {
    pub name: &'static str,
    pub provides: &'static str,
}

pub const POSTGRESQL: Package = Package {
    name: "postgresql-15",
    provides: "/usr/lib/postgresql/15/bin/postgres",
};
pub const REDIS: Package = Package {
    name: "redis-server",
    provides: "/usr/bin/redis-server",
};
pub const NGINX: Package = Package {
    name: "nginx-light",
    provides: "/usr/sbin/nginx",
};
pub const PROMETHEUS: Package = Package {
    name: "prometheus",
    provides: "/usr/bin/prometheus",
};
pub const JDK: Package = Package {
    name: "openjdk-17-jdk-headless",
    provides: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
};
pub const MAVEN: Package = Package {
    name: "maven",
    provides: "/usr/bin/mvn",
};
pub const CHROMIUM: Package = Package {
    name: "chromium",
    provides: "/usr/bin/chromium",
};
pub const NGINX_BROTLI: Package = Package {
    name: "libnginx-mod-http-brotli-static",
    provides: "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so",
};
pub const UNZIP: Package = Package {
    name: "unzip",
    provides: "/usr/bin/unzip",
};

/// The JDK OpenSearch runs on.
pub const JAVA_HOME: &str = "/usr/lib/jvm/java-17-openjdk-amd64";
/// PostgreSQL's server binaries (Debian keeps them off PATH).
pub const POSTGRES_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Installs the missing packages (after `apt-get update`) when root; otherwise prints the exact command
/// and stops.
pub fn ensure_packages(packages: &[&Package], log: &Path) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|p| !Path::new(p.provides).exists())
        .map(|p| p.name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !Uid::effective().is_root() {
        bail!(
            "missing Debian packages: {list}\nrun:  sudo apt-get update && sudo apt-get install -y --no-install-recommends {list}\nthen run this command again"
        );
    }
    process::run_step(
        "apt-get update",
        Command::new("apt-get").args(["update", "-q"]),
        log,
    )?;
    process::run_step(
        &format!("apt-get install {list}"),
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing),
        log,
    )
}

/// Fails with a clear line when a build tool is not on PATH.
pub fn require_tool(tool: &str, hint: &str) -> Result<PathBuf> {
    which::which(tool).with_context(|| format!("`{tool}` is not on PATH: {hint}"))
}

/// Go builds FerretDB and the Kubernetes binaries; the pinned modules need a newer Go than Debian's.
pub fn require_go() -> Result<PathBuf> {
    require_tool(
        "go",
        "install Go ≥ 1.26 from https://go.dev/dl/ (Debian's golang is too old)",
    )
}

/// Who runs the servers that refuse root.
#[derive(Debug, Clone)]
pub enum Runner {
    /// xtask is not root: servers run as the invoking user.
    Myself,
    /// xtask is root: servers run as the system user `storefront`.
    User(User),
}

pub const SYSTEM_USER: &str = "storefront";

impl Runner {
    /// The system user `storefront` (created when missing) when root, else the invoking user.
    pub fn for_servers() -> Result<Self> {
        if !Uid::effective().is_root() {
            return Ok(Self::Myself);
        }
        if let Some(user) = User::from_name(SYSTEM_USER)? {
            return Ok(Self::User(user));
        }
        println!("→ creating system user {SYSTEM_USER}");
        process::run_quiet(Command::new("useradd").args([
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ]))?;
        User::from_name(SYSTEM_USER)?
            .map(Self::User)
            .with_context(|| format!("user {SYSTEM_USER} missing right after useradd"))
    }

    pub fn is_other_user(&self) -> bool {
        matches!(self, Self::User(_))
    }

    /// Makes `command` run as this user.
    pub fn apply<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        match self {
            Self::Myself => command,
            Self::User(user) => command
                .uid(user.uid.as_raw())
                .gid(user.gid.as_raw())
                .env("USER", &user.name)
                .env("LOGNAME", &user.name)
                .env("HOME", "/nonexistent"),
        }
    }

    /// Creates `dir` (and parents) and gives the whole tree to this user.
    pub fn own_dir(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        match self {
            Self::Myself => Ok(()),
            Self::User(user) => chown_tree(dir, user),
        }
    }
}

fn chown_tree(path: &Path, user: &User) -> Result<()> {
    lchown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .with_context(|| format!("chown {}", path.display()))?;
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}
