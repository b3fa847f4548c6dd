//! Single-layer OCI images without a daemon or a registry: a root file system given as a sorted
//! list of files becomes a gzip layer, an image config, a manifest and an OCI image layout
//! (`oci-layout`, `index.json`, `blobs/sha256/…`) packed in a tar archive that
//! `ctr images import` (and any OCI tool or registry push) reads.
//!
//! Every byte is a function of the inputs: entries are sorted, owned by root, dated 1970 and
//! compressed without a timestamp, so the same files give the same digests on every machine.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, Result};
use flate2::{Compression, GzBuilder};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One file of the image's root file system.
#[derive(Debug, Clone)]
pub struct File {
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// What an image runs and the files it holds.
#[derive(Debug, Clone, Default)]
pub struct ImageSpec {
    /// Path inside the image (no leading `/`) → file. Parent directories are added.
    pub files: BTreeMap<String, File>,
    /// Directories to create empty (e.g. `tmp`), with their mode.
    pub dirs: BTreeMap<String, u32>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    /// `uid:gid` the process runs as.
    pub user: Option<String>,
    pub exposed_ports: Vec<u16>,
    pub labels: BTreeMap<String, String>,
}

/// A built image: its blobs by digest and the manifest that ties them together.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:<hex>` of the manifest: the image's identity.
    pub manifest_digest: String,
    manifest: Vec<u8>,
    blobs: BTreeMap<String, Vec<u8>>,
}

pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn tar_header(mode: u32, size: u64, kind: tar::EntryType) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(size);
    // `append_data` sets the name and the checksum.
    header
}

/// A deterministic tar of `files` (and `dirs`), every parent directory included.
fn layer_tar(spec: &ImageSpec) -> Result<Vec<u8>> {
    let mut dirs = spec.dirs.clone();
    for path in spec.files.keys().chain(spec.dirs.keys()) {
        let mut parent = std::path::Path::new(path).parent();
        while let Some(dir) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.entry(dir.to_string_lossy().into_owned())
                .or_insert(0o755);
            parent = dir.parent();
        }
    }
    enum Entry<'a> {
        Dir(u32),
        File(&'a File),
    }
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    for (path, mode) in &dirs {
        entries.insert(format!("{path}/"), Entry::Dir(*mode));
    }
    for (path, file) in &spec.files {
        entries.insert(path.clone(), Entry::File(file));
    }
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for (path, entry) in entries {
        match entry {
            Entry::Dir(mode) => {
                let mut header = tar_header(mode, 0, tar::EntryType::Directory);
                builder
                    .append_data(&mut header, &path, std::io::empty())
                    .with_context(|| format!("add {path} to the layer"))?;
            }
            Entry::File(file) => {
                let size = u64::try_from(file.contents.len())?;
                let mut header = tar_header(file.mode, size, tar::EntryType::Regular);
                builder
                    .append_data(&mut header, &path, file.contents.as_slice())
                    .with_context(|| format!("add {path} to the layer"))?;
            }
        }
    }
    Ok(builder.into_inner()?)
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::new(6));
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

/// JSON with every object's keys sorted, whichever map order serde_json was built with.
fn json_bytes(value: &Value) -> Result<Vec<u8>> {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), canonical(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    Ok(serde_json::to_vec(&canonical(value))?)
}

impl Image {
    pub fn build(spec: &ImageSpec) -> Result<Image> {
        let layer = layer_tar(spec)?;
        let diff_id = format!("sha256:{}", sha256_hex(&layer));
        let layer_gz = gzip(&layer)?;
        let layer_digest = format!("sha256:{}", sha256_hex(&layer_gz));

        let ports: serde_json::Map<String, Value> = spec
            .exposed_ports
            .iter()
            .map(|p| (format!("{p}/tcp"), json!({})))
            .collect();
        let mut config = json!({
            "Entrypoint": spec.entrypoint,
            "Env": spec.env,
            "WorkingDir": "/",
            "Labels": spec.labels,
            "ExposedPorts": ports,
        });
        if let Some(user) = &spec.user {
            config["User"] = json!(user);
        }
        let config = json_bytes(&json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": config,
            "rootfs": { "type": "layers", "diff_ids": [diff_id] },
            "history": [{ "created": "1970-01-01T00:00:00Z", "created_by": "cargo xtask images" }],
        }))?;
        let config_digest = format!("sha256:{}", sha256_hex(&config));
        let manifest = json_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": layer_gz.len(),
            }],
        }))?;
        let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
        let blobs = BTreeMap::from([(config_digest, config), (layer_digest, layer_gz)]);
        Ok(Image {
            manifest_digest,
            manifest,
            blobs,
        })
    }

    /// The OCI image layout naming this image `reference` (e.g. `localhost/storefront/cart:1.0.0`),
    /// as one tar archive.
    pub fn archive(&self, reference: &str) -> Result<Vec<u8>> {
        let tag = reference.rsplit_once(':').map_or("latest", |(_, tag)| tag);
        let index = json_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": self.manifest_digest,
                "size": self.manifest.len(),
                "platform": { "architecture": "amd64", "os": "linux" },
                "annotations": {
                    "io.containerd.image.name": reference,
                    "org.opencontainers.image.ref.name": tag,
                },
            }],
        }))?;
        let mut files = BTreeMap::new();
        let mut add = |path: String, contents: Vec<u8>| {
            files.insert(
                path,
                File {
                    mode: 0o644,
                    contents,
                },
            );
        };
        add(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        );
        add("index.json".into(), index);
        add(blob_path(&self.manifest_digest), self.manifest.clone());
        for (digest, blob) in &self.blobs {
            add(blob_path(digest), blob.clone());
        }
        layer_tar(&ImageSpec {
            files,
            ..ImageSpec::default()
        })
    }
}

fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(binary: &[u8]) -> ImageSpec {
        ImageSpec {
            files: BTreeMap::from([(
                "usr/local/bin/app".to_string(),
                File {
                    mode: 0o755,
                    contents: binary.to_vec(),
                },
            )]),
            dirs: BTreeMap::from([("tmp".to_string(), 0o1777)]),
            entrypoint: vec!["/usr/local/bin/app".into()],
            env: vec!["PATH=/usr/local/bin".into()],
            user: Some("65532:65532".into()),
            exposed_ports: vec![8080],
            labels: BTreeMap::new(),
        }
    }

    #[test]
    fn the_same_files_give_the_same_digest() {
        let a = Image::build(&spec(b"binary")).unwrap();
        let b = Image::build(&spec(b"binary")).unwrap();
        assert_eq!(a.manifest_digest, b.manifest_digest);
        assert_eq!(a.archive("x/app:1").unwrap(), b.archive("x/app:1").unwrap());
        let c = Image::build(&spec(b"binary2")).unwrap();
        assert_ne!(a.manifest_digest, c.manifest_digest);
    }

    #[test]
    fn a_label_changes_the_image_but_not_its_layer() {
        let a = Image::build(&spec(b"binary")).unwrap();
        let mut labelled = spec(b"binary");
        labelled
            .labels
            .insert("org.opencontainers.image.revision".into(), "next".into());
        let b = Image::build(&labelled).unwrap();
        assert_ne!(a.manifest_digest, b.manifest_digest);
        let layers = |i: &Image| {
            i.blobs
                .iter()
                .filter(|(_, blob)| blob.starts_with(&[0x1f, 0x8b]))
                .map(|(d, _)| d.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(layers(&a), layers(&b));
    }

    #[test]
    fn the_layer_holds_root_owned_files_with_their_parents() {
        let layer = layer_tar(&spec(b"binary")).unwrap();
        let mut archive = tar::Archive::new(layer.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            assert_eq!(header.uid().unwrap(), 0);
            assert_eq!(header.mtime().unwrap(), 0);
            seen.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            seen,
            [
                "tmp/",
                "usr/",
                "usr/local/",
                "usr/local/bin/",
                "usr/local/bin/app"
            ]
        );
    }

    #[test]
    fn the_archive_names_the_image_for_containerd() {
        let image = Image::build(&spec(b"binary")).unwrap();
        let archive = image.archive("localhost/storefront/app:1.0.0-abc").unwrap();
        let mut archive = tar::Archive::new(archive.as_slice());
        let mut index = String::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().to_string_lossy() == "index.json" {
                std::io::Read::read_to_string(&mut entry, &mut index).unwrap();
            }
        }
        let index: Value = serde_json::from_str(&index).unwrap();
        let m = &index["manifests"][0];
        assert_eq!(m["digest"], image.manifest_digest);
        assert_eq!(
            m["annotations"]["io.containerd.image.name"],
            "localhost/storefront/app:1.0.0-abc"
        );
        assert_eq!(
            m["annotations"]["org.opencontainers.image.ref.name"],
            "1.0.0-abc"
        );
    }
}
