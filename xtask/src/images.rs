//! `cargo xtask images`: one OCI image per component from the release binaries, without Docker
//! or a registry. The services are static Rust binaries on an empty base; the store UI is its
//! built assets behind `storefront-store-ui-server`. Every image of a release carries the same
//! tag, `<version>-<digest>`, where the digest covers every image's manifest, so the same sources
//! always give the same tag and any change gives a new one. The archives are OCI image layouts
//! (what a registry push carries) under `<data>/images/<tag>/`, imported into the real node's
//! containerd when it runs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::oci::{File, Image, ImageSpec, sha256_hex};
use crate::parts::Ctx;
use crate::{cargo, node, process, ui};

/// Where the images say they come from; a Storefront names it in `spec.image.registry`.
pub const REGISTRY: &str = "localhost/storefront";
/// Static binaries: C runtime linked in, so the image needs no libc.
const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";
/// The unprivileged user every component runs as (the operator's pods say the same).
const RUN_AS: &str = "65532:65532";
const HTTP_PORT: u16 = 8080;
/// Where the store UI's files live in its image.
const UI_ROOT: &str = "srv/store-ui";

/// A component image: its name in the registry, its binary and its variable prefix.
struct Component {
    name: &'static str,
    binary: &'static str,
    env_prefix: &'static str,
}

const COMPONENTS: &[Component] = &[
    Component {
        name: "users",
        binary: "storefront-users",
        env_prefix: "USERS",
    },
    Component {
        name: "catalog",
        binary: "storefront-catalog",
        env_prefix: "CATALOG",
    },
    Component {
        name: "cart",
        binary: "storefront-cart",
        env_prefix: "CART",
    },
    Component {
        name: "search",
        binary: "storefront-search",
        env_prefix: "SEARCH",
    },
    Component {
        name: "store-ui",
        binary: "storefront-store-ui-server",
        env_prefix: "STORE_UI",
    },
];

/// The images of one release.
pub struct Release {
    pub tag: String,
    /// Component name → OCI archive.
    pub archives: BTreeMap<&'static str, PathBuf>,
}

impl Release {
    /// A release built earlier, from its archives under `<data>/images/<tag>/`.
    pub fn load(ctx: &Ctx, tag: &str) -> Result<Release> {
        let dir = images_dir(ctx).join(tag);
        let mut archives = BTreeMap::new();
        for component in COMPONENTS {
            let path = dir.join(format!("{}.tar", component.name));
            if !path.exists() {
                bail!("{} is missing: run `cargo xtask images`", path.display());
            }
            archives.insert(component.name, path);
        }
        Ok(Release {
            tag: tag.to_string(),
            archives,
        })
    }
}

fn images_dir(ctx: &Ctx) -> PathBuf {
    ctx.paths.data.join("images")
}

/// The tag of the last release `build` produced, if any.
pub fn last_tag(ctx: &Ctx) -> Option<String> {
    fs::read_to_string(images_dir(ctx).join("last-tag"))
        .ok()
        .map(|t| t.trim().to_string())
}

/// Where the static release binaries are.
pub fn static_bin_dir(ctx: &Ctx) -> PathBuf {
    ctx.paths
        .cargo_target_dir()
        .join(STATIC_TARGET)
        .join("release")
}

/// Builds the static release binaries of every component.
fn build_binaries(ctx: &Ctx) -> Result<PathBuf> {
    let mut args = vec![
        "build",
        "--release",
        "--locked",
        "--quiet",
        "--target",
        STATIC_TARGET,
    ];
    for c in COMPONENTS {
        args.extend(["-p", c.binary]);
    }
    let mut command = cargo::command(&ctx.paths, &args);
    // `--target` keeps build scripts and proc macros dynamic; only the shipped binaries are static.
    command.env("RUSTFLAGS", "-C target-feature=+crt-static");
    println!("→ building static release binaries ({STATIC_TARGET})");
    cargo::run(command)?;
    Ok(static_bin_dir(ctx))
}

fn executable(path: &Path) -> Result<File> {
    Ok(File {
        mode: 0o755,
        contents: fs::read(path).with_context(|| format!("read {}", path.display()))?,
    })
}

/// Files every image carries: a passwd/group naming the unprivileged user, and the CA bundle
/// for TLS to external databases.
fn base_files() -> BTreeMap<String, File> {
    let text = |s: &str| File {
        mode: 0o644,
        contents: s.as_bytes().to_vec(),
    };
    let mut files = BTreeMap::from([
        (
            "etc/passwd".to_string(),
            text(
                "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
            ),
        ),
        (
            "etc/group".to_string(),
            text("root:x:0:\nnonroot:x:65532:\n"),
        ),
    ]);
    if let Ok(bundle) = fs::read("/etc/ssl/certs/ca-certificates.crt") {
        files.insert(
            "etc/ssl/certs/ca-certificates.crt".to_string(),
            File {
                mode: 0o644,
                contents: bundle,
            },
        );
    }
    files
}

/// Every file under `dir` (dotfiles skipped), keyed by `<under>/<relative path>`.
fn tree(dir: &Path, under: &str, files: &mut BTreeMap<String, File>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("list {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let inside = format!("{under}/{name}");
        if entry.file_type()?.is_dir() {
            tree(&path, &inside, files)?;
        } else {
            files.insert(
                inside,
                File {
                    mode: 0o644,
                    contents: fs::read(&path)
                        .with_context(|| format!("read {}", path.display()))?,
                },
            );
        }
    }
    Ok(())
}

fn component_spec(
    ctx: &Ctx,
    component: &Component,
    bin: &Path,
    revision: Option<&str>,
) -> Result<ImageSpec> {
    let mut files = base_files();
    let entry = format!("usr/local/bin/{}", component.binary);
    files.insert(entry.clone(), executable(&bin.join(component.binary))?);
    let mut env = vec![
        "PATH=/usr/local/bin".to_string(),
        format!("{}_LISTEN_ADDR=0.0.0.0:{HTTP_PORT}", component.env_prefix),
    ];
    if component.name == "store-ui" {
        let dist = ui::dir(ctx).join("dist");
        tree(&dist, UI_ROOT, &mut files)?;
        env.push(format!("STORE_UI_DIR=/{UI_ROOT}"));
    }
    let mut labels = BTreeMap::from([
        (
            "org.opencontainers.image.title".to_string(),
            format!("storefront-{}", component.name),
        ),
        (
            "org.opencontainers.image.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]);
    if let Some(revision) = revision {
        labels.insert(
            "org.opencontainers.image.revision".to_string(),
            revision.to_string(),
        );
    }
    Ok(ImageSpec {
        files,
        dirs: BTreeMap::from([("tmp".to_string(), 0o1777)]),
        entrypoint: vec![format!("/{entry}")],
        env,
        user: Some(RUN_AS.to_string()),
        exposed_ports: vec![HTTP_PORT],
        labels,
    })
}

/// Builds every component image; `revision` (an OCI label) makes a distinct release of the same
/// binaries, e.g. to exercise a rolling update.
pub fn build(ctx: &Ctx, revision: Option<&str>) -> Result<Release> {
    ui::ensure_built(ctx)?;
    let bin = build_binaries(ctx)?;
    let mut images = Vec::new();
    for component in COMPONENTS {
        let spec = component_spec(ctx, component, &bin, revision)?;
        images.push((component.name, Image::build(&spec)?));
    }
    let summary: String = images
        .iter()
        .map(|(name, image)| format!("{name}={}\n", image.manifest_digest))
        .collect();
    let tag = format!(
        "{}-{}",
        env!("CARGO_PKG_VERSION"),
        &sha256_hex(summary.as_bytes())[..12]
    );
    let dir = images_dir(ctx).join(&tag);
    fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let mut archives = BTreeMap::new();
    for (name, image) in &images {
        let reference = format!("{REGISTRY}/{name}:{tag}");
        let path = dir.join(format!("{name}.tar"));
        fs::write(&path, image.archive(&reference)?)
            .with_context(|| format!("write {}", path.display()))?;
        println!("  {reference:<58} {}", &image.manifest_digest[..19]);
        archives.insert(*name, path);
    }
    fs::write(images_dir(ctx).join("last-tag"), &tag)?;
    Ok(Release { tag, archives })
}

/// The sandbox image of the real node, from the `pause` binary built with the node's parts.
pub fn pause(ctx: &Ctx, pause_binary: &Path) -> Result<(String, PathBuf)> {
    let spec = ImageSpec {
        files: BTreeMap::from([("pause".to_string(), executable(pause_binary)?)]),
        entrypoint: vec!["/pause".to_string()],
        user: Some(RUN_AS.to_string()),
        ..ImageSpec::default()
    };
    let image = Image::build(&spec)?;
    let hex = image.manifest_digest.trim_start_matches("sha256:");
    let reference = format!("{REGISTRY}/pause:{}", &hex[..12]);
    let path = images_dir(ctx).join("pause.tar");
    fs::create_dir_all(images_dir(ctx))?;
    fs::write(&path, image.archive(&reference)?)
        .with_context(|| format!("write {}", path.display()))?;
    Ok((reference, path))
}

/// Imports a release into the real node's containerd.
pub fn import(ctx: &Ctx, release: &Release) -> Result<()> {
    let Some(socket) = node::containerd_socket(ctx) else {
        bail!("the real node is not running: start it with `cargo xtask cluster up --real-node`");
    };
    for archive in release.archives.values() {
        process::run_quiet(
            Command::new("ctr")
                .args(["--connect-timeout", "1s", "-a"])
                .arg(&socket)
                .args(["-n", "k8s.io", "images", "import"])
                .arg(archive),
        )
        .with_context(|| format!("import {}", archive.display()))?;
    }
    println!(
        "  images {} imported into the node's containerd",
        release.tag
    );
    Ok(())
}

/// `cargo xtask images [--revision R]`.
pub fn run(revision: Option<&str>) -> Result<()> {
    let ctx = Ctx::observer()?;
    println!("→ images");
    let release = build(&ctx, revision)?;
    if node::containerd_socket(&ctx).is_some() {
        import(&ctx, &release)?;
    } else {
        println!(
            "  (the real node is not running; `cargo xtask cluster up --real-node` imports them)"
        );
    }
    println!();
    println!("tag: {}", release.tag);
    println!("  spec.image.registry: {REGISTRY}");
    println!("  spec.version: \"{}\"", release.tag);
    Ok(())
}
