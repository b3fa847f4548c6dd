//! PostgreSQL databases: `pg_dump -Fc` (custom format: compressed, restorable object by object)
//! and `pg_restore --clean --if-exists`, without owners or grants so a dump restores into a
//! database owned by another role. Both stream: the dump goes to the storage as `pg_dump` writes
//! it, and the backup is fed to `pg_restore` as it is read.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::Error;
use crate::pipe::{Sink, read_head};
use crate::process::{feed_input, stream_output};

pub const EXTENSION: &str = "dump";

/// The custom-format archive's magic bytes.
const MAGIC: &[u8] = b"PGDMP";

/// Dumps the database at `url` into `sink`, finishing it only if `pg_dump` succeeds.
pub async fn dump(url: &str, sink: Sink) -> Result<(), Error> {
    let dbname = format!("--dbname={url}");
    stream_output(
        "pg_dump",
        &["--format=custom", "--no-owner", "--no-acl", &dbname],
        sink,
    )
    .await
}

/// Restores the archive `backup` (named `name`) into the database at `url`, replacing the objects
/// it contains. `pg_restore` runs in one transaction and stops at the first error, so a failed or
/// interrupted restore changes nothing and is never reported as a success.
pub async fn restore<R>(url: &str, name: &str, backup: &mut R) -> Result<(), Error>
where
    R: AsyncRead + Unpin + Send,
{
    let head = read_head(backup, MAGIC.len())
        .await
        .map_err(Error::io(format!("read the backup {name}")))?;
    if head != MAGIC {
        return Err(Error::Corrupt {
            name: name.to_owned(),
            kind: "PostgreSQL",
            reason: "it is not a pg_dump custom-format archive".into(),
        });
    }
    let dbname = format!("--dbname={url}");
    let mut archive = (&head[..]).chain(backup);
    feed_input(
        "pg_restore",
        &[
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            &dbname,
        ],
        &mut archive,
        &format!("the backup {name}"),
    )
    .await
}
