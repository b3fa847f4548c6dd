//! PostgreSQL databases: `pg_dump -Fc` (custom format: compressed, restorable object by object)
//! and `pg_restore --clean --if-exists`, without owners or grants so a dump restores into a
//! database owned by another role.

use crate::error::Error;
use crate::process::run;

pub const EXTENSION: &str = "dump";

/// The custom-format archive's magic bytes.
const MAGIC: &[u8] = b"PGDMP";

pub async fn dump(url: &str) -> Result<Vec<u8>, Error> {
    let dbname = format!("--dbname={url}");
    run(
        "pg_dump",
        &["--format=custom", "--no-owner", "--no-acl", &dbname],
        None,
    )
    .await
}

/// Restores `archive` into the database at `url`, replacing the objects it contains. Stops at the
/// first error, so a failed restore is never reported as a success.
pub async fn restore(url: &str, name: &str, archive: Vec<u8>) -> Result<(), Error> {
    if !archive.starts_with(MAGIC) {
        return Err(Error::Corrupt {
            name: name.to_owned(),
            kind: "PostgreSQL",
            reason: "it is not a pg_dump custom-format archive".into(),
        });
    }
    let dbname = format!("--dbname={url}");
    run(
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
        Some(archive),
    )
    .await
    .map(|_| ())
}
