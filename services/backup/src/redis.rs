//! Redis: an RDB snapshot taken over the replication protocol by `redis-cli --rdb`, the same file
//! Redis writes on `SAVE`. `redis-cli` writes the snapshot to a file, which is then streamed to the
//! storage. Restoring means placing it as the server's `dump.rdb` while the server is stopped (see
//! the README), so `restore redis` streams the file where it is asked to.

use std::path::Path;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::Error;
use crate::pipe::{CHUNK, CopyError, Sink, read_head, write_file};
use crate::process::run;

pub const EXTENSION: &str = "rdb";

const MAGIC: &[u8] = b"REDIS";

/// The magic and the format version: the least an RDB file starts with.
const HEAD: usize = 9;

/// Takes a snapshot of the server at `url` into `sink`, through a temporary file.
pub async fn dump(url: &str, sink: Sink) -> Result<(), Error> {
    let file = std::env::temp_dir().join(format!("storefront-backup-{}.rdb", uuid::Uuid::new_v4()));
    let result = snapshot(url, &file, sink).await;
    let _ = tokio::fs::remove_file(&file).await;
    result
}

async fn snapshot(url: &str, file: &Path, mut sink: Sink) -> Result<(), Error> {
    let path = file.to_string_lossy().into_owned();
    let mut args = vec!["-u", url, "--rdb", &path];
    if url.starts_with("rediss://") {
        args.insert(0, "--tls");
    }
    run("redis-cli", &args).await?;
    let read_failed = || Error::io(format!("read {path}"));
    let mut snapshot = tokio::fs::File::open(file).await.map_err(read_failed())?;
    let head = read_head(&mut snapshot, HEAD + 1)
        .await
        .map_err(read_failed())?;
    check(&head, "the new snapshot")?;
    sink.send(head).await?;
    loop {
        let mut chunk = vec![0; CHUNK];
        let n = snapshot.read(&mut chunk).await.map_err(read_failed())?;
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        sink.send(chunk).await?;
    }
    sink.finish().await
}

/// Checks that `head`, the start of a file, is the start of an RDB file.
pub fn check(head: &[u8], name: &str) -> Result<(), Error> {
    if head.starts_with(MAGIC) && head.len() > HEAD {
        Ok(())
    } else {
        Err(Error::Corrupt {
            name: name.to_owned(),
            kind: "Redis",
            reason: "it is not an RDB file".into(),
        })
    }
}

/// Streams the snapshot `backup` (named `name`) to `path`, through a temporary file renamed at
/// the end: `path` is either the whole snapshot or untouched.
pub async fn restore<R>(path: &Path, name: &str, backup: &mut R) -> Result<(), Error>
where
    R: AsyncRead + Unpin + Send,
{
    let head = read_head(backup, HEAD + 1)
        .await
        .map_err(Error::io(format!("read the backup {name}")))?;
    check(&head, name)?;
    let partial = path.with_extension("partial");
    write_file(&partial, &mut (&head[..]).chain(backup))
        .await
        .map_err(|e| match e {
            CopyError::Read(source) => Error::io(format!("read the backup {name}"))(source),
            CopyError::Write(source) => Error::io(format!("write {}", partial.display()))(source),
        })?;
    tokio::fs::rename(&partial, path)
        .await
        .map_err(Error::io(format!("rename to {}", path.display())))
}
