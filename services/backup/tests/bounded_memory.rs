//! A PostgreSQL database several upload parts large is backed up and restored by the binary with
//! memory bounded by a few parts, not by the dump's size.
//!
//! Its own test binary, holding one test: the kernel reports the peak resident memory of a
//! process's finished children (`getrusage(RUSAGE_CHILDREN)`), which is only this test's tool runs
//! when no other test runs in the same process.

#[path = "round_trip/common.rs"]
#[allow(dead_code)] // the helpers the round-trip tests use and this one does not
mod common;

use nix::sys::resource::{UsageWho, getrusage};
use storefront_kit::testing::{create_database, drop_database, unique_name};

use common::{backed_up_key, run_ok, s3_bucket, s3_env};

const MIB: u64 = 1024 * 1024;
const PART_MIB: u64 = 5;
/// Random bytes in the database: incompressible, so the dump is as large (about 42 MiB).
const RANDOM_MIB: u64 = 36;

/// The largest peak resident memory of any child process that has finished, in bytes.
fn children_peak_memory() -> u64 {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    u64::try_from(usage.max_rss()).unwrap() * 1024
}

/// Rows of 1 KiB of random bytes, and a row count and checksum to compare copies by.
async fn fill(url: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query("CREATE TABLE blobs (id integer PRIMARY KEY, payload bytea NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    // 16 SHA-512 digests of random numbers make one row's 1 KiB.
    sqlx::query(
        "INSERT INTO blobs SELECT i, \
         string_agg(sha512(int8send(i) || int8send(j) || float8send(random())), ''::bytea) \
         FROM generate_series(1, $1) i, generate_series(1, 16) j GROUP BY i",
    )
    .bind((RANDOM_MIB * 1024) as i32)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

async fn fingerprint(url: &str) -> (i64, String) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let row: (i64, String) =
        sqlx::query_as("SELECT count(*), md5(string_agg(md5(payload), '' ORDER BY id)) FROM blobs")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    row
}

/// The size printed by `backup`: `backed up <key> (<n> bytes)…`.
fn backed_up_bytes(line: &str) -> u64 {
    line.split_once(" (")
        .and_then(|(_, rest)| rest.split_once(" bytes)"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output {line:?}"))
}

#[tokio::test]
async fn a_dump_of_many_parts_goes_up_and_comes_back_in_bounded_memory() {
    let bucket = s3_bucket().await;
    let store = unique_name("shop").replace('_', "-");
    let with_db = |database: &str, url: &str| {
        let mut env = s3_env(&bucket, &store, database);
        env.push(("BACKUP_POSTGRES_URL".into(), url.to_owned()));
        env.push(("BACKUP_PART_SIZE_MIB".into(), PART_MIB.to_string()));
        env
    };

    // What the tool takes for a dump of a few kilobytes: the program itself, the runtime,
    // the HTTP client, pg_dump.
    let (tiny_url, tiny_name) = create_database("backup_tiny").await;
    run_ok(&with_db("tiny", &tiny_url), &["backup", "postgres"]).await;
    let baseline = children_peak_memory();

    let (url, name) = create_database("backup_big").await;
    fill(&url).await;
    let before = fingerprint(&url).await;
    assert_eq!(before.0, (RANDOM_MIB * 1024) as i64);

    let line = run_ok(&with_db("big", &url), &["backup", "postgres"]).await;
    let key = backed_up_key(&line);
    let dumped = backed_up_bytes(&line);
    assert!(
        dumped > 7 * PART_MIB * MIB,
        "the dump ({dumped} bytes) should span several parts"
    );
    let after_backup = children_peak_memory();

    // Restored into a new database from the same folder.
    let (copy_url, copy_name) = create_database("backup_big_copy").await;
    let file = key.rsplit('/').next().unwrap();
    run_ok(&with_db("big", &copy_url), &["restore", "postgres", file]).await;
    let after_restore = children_peak_memory();
    assert_eq!(fingerprint(&copy_url).await, before);

    // Two parts in flight and some slack; holding the dump would take all of its 40-odd MiB.
    let bound = baseline + 3 * PART_MIB * MIB;
    println!(
        "dump {} MiB; peak resident memory: tiny backup {} MiB, backup {} MiB, restore {} MiB",
        dumped / MIB,
        baseline / MIB,
        after_backup / MIB,
        after_restore / MIB
    );
    assert!(
        after_backup <= bound,
        "backing up {dumped} bytes took {after_backup} bytes of memory, more than {bound}"
    );
    assert!(
        after_restore <= bound,
        "restoring {dumped} bytes took {after_restore} bytes of memory, more than {bound}"
    );

    for db in [tiny_name, name, copy_name] {
        drop_database(&db).await;
    }
}
