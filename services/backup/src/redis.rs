//! Redis: an RDB snapshot taken over the replication protocol by `redis-cli --rdb`, the same file
//! Redis writes on `SAVE`. Restoring means placing it as the server's `dump.rdb` while the server
//! is stopped (see the README), so `restore redis` writes the file where it is asked to.

use crate::error::Error;
use crate::process::run;

pub const EXTENSION: &str = "rdb";

const MAGIC: &[u8] = b"REDIS";

pub async fn dump(url: &str) -> Result<Vec<u8>, Error> {
    let file = std::env::temp_dir().join(format!("storefront-backup-{}.rdb", uuid::Uuid::new_v4()));
    let path = file.to_string_lossy().into_owned();
    let mut args = vec!["-u", url, "--rdb", &path];
    if url.starts_with("rediss://") {
        args.insert(0, "--tls");
    }
    let result = run("redis-cli", &args, None).await;
    let bytes = match result {
        Ok(_) => tokio::fs::read(&file)
            .await
            .map_err(Error::io(format!("read {path}"))),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&file).await;
    let bytes = bytes?;
    check(&bytes, "the new snapshot")?;
    Ok(bytes)
}

/// Checks that `bytes` is an RDB file before anything is written.
pub fn check(bytes: &[u8], name: &str) -> Result<(), Error> {
    if bytes.starts_with(MAGIC) && bytes.len() > 9 {
        Ok(())
    } else {
        Err(Error::Corrupt {
            name: name.to_owned(),
            kind: "Redis",
            reason: "it is not an RDB file".into(),
        })
    }
}

/// Writes the snapshot to `path` (through a temporary file, then a rename).
pub async fn restore(path: &std::path::Path, name: &str, bytes: Vec<u8>) -> Result<(), Error> {
    check(&bytes, name)?;
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, bytes)
        .await
        .map_err(Error::io(format!("write {}", partial.display())))?;
    tokio::fs::rename(&partial, path)
        .await
        .map_err(Error::io(format!("rename to {}", path.display())))
}
