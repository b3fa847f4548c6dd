//! Running the binary with a fresh bucket, and snapshots of whole databases to compare.

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use sqlx::Row;
use storefront_kit::s3::S3Bucket;
use storefront_kit::testing::{
    S3_ACCESS_KEY, S3_SECRET_KEY, create_s3_bucket, postgres_url, s3_settings, s3_url,
};

/// A fresh bucket on the local S3-compatible store.
pub async fn s3_bucket() -> String {
    storefront_kit::install_crypto_provider();
    create_s3_bucket("backups").await
}

/// Writes an object straight into the bucket (to plant a damaged backup).
pub async fn put_object(bucket_name: &str, key: &str, bytes: Vec<u8>) {
    S3Bucket::new(&s3_settings(bucket_name), Duration::from_secs(60))
        .unwrap()
        .put(key, bytes, "application/octet-stream")
        .await
        .unwrap();
}

/// The binary's environment for `store`/`database` backed up to `bucket`, with `extra` variables.
pub fn s3_env(bucket: &str, store: &str, database: &str) -> Vec<(String, String)> {
    [
        ("BACKUP_STORE", store),
        ("BACKUP_DATABASE", database),
        ("BACKUP_S3_ENDPOINT", &s3_url()),
        ("BACKUP_S3_BUCKET", bucket),
        ("BACKUP_S3_PREFIX", "backups/"),
        ("BACKUP_S3_ACCESS_KEY_ID", S3_ACCESS_KEY),
        ("BACKUP_S3_SECRET_ACCESS_KEY", S3_SECRET_KEY),
        ("BACKUP_S3_PATH_STYLE", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Runs `storefront-backup args…` with exactly `env` as its `BACKUP_*` variables.
pub async fn run(env: &[(String, String)], args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_storefront-backup"));
    for (name, _) in std::env::vars() {
        if name.starts_with("BACKUP_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command.args(args).output().await.unwrap()
}

/// Runs and expects success; returns the one line printed.
pub async fn run_ok(env: &[(String, String)], args: &[&str]) -> String {
    let output = run(env, args).await;
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Runs and expects failure; returns the error line.
pub async fn run_err(env: &[(String, String)], args: &[&str]) -> String {
    let output = run(env, args).await;
    assert!(
        !output.status.success(),
        "{args:?} should have failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

/// The key printed by `backup`: `backed up <key> (<n> bytes)…`.
pub fn backed_up_key(line: &str) -> String {
    line.strip_prefix("backed up ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected output {line:?}"))
        .to_owned()
}

/// Every row of every table (as JSON text, sorted) and every sequence's position.
pub async fn table_contents(url: &str) -> BTreeMap<String, Vec<String>> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut contents = BTreeMap::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1"
        )))
        .fetch_all(&pool)
        .await
        .unwrap();
        contents.insert(table, rows);
    }
    let sequences = sqlx::query(
        "SELECT schemaname || '.' || sequencename AS name, coalesce(last_value, 0) AS last FROM pg_sequences",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for row in sequences {
        let name: String = row.get("name");
        let last: i64 = row.get("last");
        contents.insert(format!("sequence {name}"), vec![last.to_string()]);
    }
    pool.close().await;
    contents
}

/// Drops the database and creates it again, empty.
pub async fn recreate_database(name: &str) {
    let admin = sqlx::PgPool::connect(&postgres_url()).await.unwrap();
    for statement in [
        format!("DROP DATABASE {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&admin)
            .await
            .unwrap();
    }
    admin.close().await;
}

/// Every document of every collection (sorted by `_id`) and each collection's indexes.
pub async fn documents(db: &mongodb::Database) -> BTreeMap<String, (Vec<Document>, Vec<String>)> {
    let mut all = BTreeMap::new();
    for name in db.list_collection_names().await.unwrap() {
        let collection = db.collection::<Document>(&name);
        let docs: Vec<Document> = collection
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut indexes: Vec<String> = collection
            .list_indexes()
            .await
            .unwrap()
            .map_ok(|index| {
                format!(
                    "{} {:?}",
                    index.keys,
                    index.options.and_then(|o| o.unique).unwrap_or(false)
                )
            })
            .try_collect()
            .await
            .unwrap();
        indexes.sort();
        all.insert(name, (docs, indexes));
    }
    all
}
