//! A missing, damaged or truncated backup stops the restore with one clear line and a non-zero
//! exit, before the target is touched; a dump that fails, even half-way through its upload,
//! stores nothing and prunes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use storefront_kit::s3::S3Bucket;
use storefront_kit::testing::{
    create_database, drop_database, mongodb_url, postgres_url, s3_settings, unique_name,
    with_database,
};

use crate::common::{
    backed_up_key, put_object, run_err, run_ok, s3_bucket, s3_env, table_contents,
};

/// Every object in the bucket.
async fn objects(bucket: &str) -> Vec<String> {
    let mut keys = S3Bucket::new(&s3_settings(bucket), Duration::from_secs(60))
        .unwrap()
        .list("")
        .await
        .unwrap();
    keys.sort();
    keys
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

/// The binary's environment for `shop`/`database` backed up to the directory `dir`.
fn directory_env(dir: &Path, database: &str) -> Vec<(String, String)> {
    [
        ("BACKUP_STORE", "shop"),
        ("BACKUP_DATABASE", database),
        ("BACKUP_DIR", dir.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `url` with `role` as its user (the local server trusts loopback connections).
fn as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{host}")
}

async fn execute(url: &str, statements: &[String]) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn a_dump_that_fails_half_way_leaves_nothing_behind() {
    // pg_dump streams the first table's 12 MiB (more than two 5 MiB parts) and then stops at the
    // second: its owner, as whom the dump runs, is subject to a forced row-level security policy,
    // and pg_dump refuses to dump a table partially.
    let (url, name) = create_database("backup_halfway").await;
    let role = unique_name("backup_role");
    execute(&postgres_url(), &[format!("CREATE ROLE {role} LOGIN")]).await;
    execute(
        &url,
        &[
            "CREATE TABLE a_big (id integer PRIMARY KEY, payload bytea NOT NULL)".into(),
            "INSERT INTO a_big SELECT i, \
             string_agg(sha512(int8send(i) || int8send(j) || float8send(random())), ''::bytea) \
             FROM generate_series(1, 12288) i, generate_series(1, 16) j GROUP BY i"
                .into(),
            "CREATE TABLE z_guarded (id integer)".into(),
            "INSERT INTO z_guarded VALUES (1)".into(),
            format!("ALTER TABLE a_big OWNER TO {role}"),
            format!("ALTER TABLE z_guarded OWNER TO {role}"),
            "ALTER TABLE z_guarded ENABLE ROW LEVEL SECURITY".into(),
            "ALTER TABLE z_guarded FORCE ROW LEVEL SECURITY".into(),
        ],
    )
    .await;
    let failing = as_role(&url, &role);

    let bucket = s3_bucket().await;
    let dir = std::env::temp_dir().join(unique_name("backups"));
    let targets = [
        s3_env(&bucket, "shop", "users"),
        directory_env(&dir, "users"),
    ];
    for target in targets {
        // A good backup (the superuser is not subject to the policy), which the failed one must
        // neither replace nor prune.
        let mut good = target.clone();
        good.push(("BACKUP_POSTGRES_URL".into(), url.clone()));
        good.push(("BACKUP_RETENTION".into(), "1".into()));
        let kept = backed_up_key(&run_ok(&good, &["backup", "postgres"]).await);

        let mut env = target;
        env.push(("BACKUP_POSTGRES_URL".into(), failing.clone()));
        env.push(("BACKUP_RETENTION".into(), "1".into()));
        env.push(("BACKUP_PART_SIZE_MIB".into(), "5".into()));
        let error = run_err(&env, &["backup", "postgres"]).await;
        assert!(
            error.contains("pg_dump failed") && error.contains("row-level security"),
            "{error}"
        );
        assert_eq!(run_ok(&env, &["list", "postgres"]).await, kept);
    }
    assert_eq!(objects(&bucket).await.len(), 1);
    let left: Vec<String> = files(&dir);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(".dump"), "{left:?}");

    drop_database(&name).await;
    execute(&postgres_url(), &[format!("DROP ROLE {role}")]).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_dump_of_a_missing_database_stores_nothing() {
    let bucket = s3_bucket().await;
    let dir: PathBuf = std::env::temp_dir().join(unique_name("backups"));
    let missing = with_database(&postgres_url(), &unique_name("no_such_db"));
    let mut env = s3_env(&bucket, "shop", "users");
    env.push(("BACKUP_POSTGRES_URL".into(), missing.clone()));
    let error = run_err(&env, &["backup", "postgres"]).await;
    assert!(
        error.contains("pg_dump failed") && error.contains("does not exist"),
        "{error}"
    );
    assert!(objects(&bucket).await.is_empty());

    let mut env = directory_env(&dir, "users");
    env.push(("BACKUP_POSTGRES_URL".into(), missing));
    let error = run_err(&env, &["backup", "postgres"]).await;
    assert!(error.contains("does not exist"), "{error}");
    if dir.exists() {
        assert_eq!(files(&dir), Vec::<String>::new());
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn missing_backups_are_named() {
    let bucket = s3_bucket().await;
    let (url, name) = create_database("backup_missing").await;
    let mut env = s3_env(&bucket, "shop", "users");
    env.push(("BACKUP_POSTGRES_URL".into(), url));
    let none = run_err(&env, &["restore", "postgres", "latest"]).await;
    assert!(none.contains("no backup under shop/users/"), "{none}");
    run_ok(&env, &["backup", "postgres"]).await;
    let missing = run_err(&env, &["restore", "postgres", "20000101T000000.000Z.dump"]).await;
    assert!(
        missing.contains("there is no backup shop/users/20000101T000000.000Z.dump"),
        "{missing}"
    );
    let bad = run_err(&env, &["restore", "postgres", "../../etc/passwd"]).await;
    assert!(bad.contains("is not a backup name"), "{bad}");
    drop_database(&name).await;
}

#[tokio::test]
async fn damaged_postgres_backups_are_refused() {
    let bucket = s3_bucket().await;
    let (url, name) = create_database("backup_damaged").await;
    crate::postgres::fill(&url).await;
    let before = table_contents(&url).await;
    let mut env = s3_env(&bucket, "shop", "users");
    env.push(("BACKUP_POSTGRES_URL".into(), url.clone()));

    put_object(
        &bucket,
        "backups/shop/users/20990101T000000.000Z.dump",
        b"garbage".to_vec(),
    )
    .await;
    let foreign = run_err(&env, &["restore", "postgres", "latest"]).await;
    assert!(
        foreign.contains("not a pg_dump custom-format archive"),
        "{foreign}"
    );

    let mut truncated = b"PGDMP".to_vec();
    truncated.extend_from_slice(&[1, 14, 0, 4, 8, 1, 1]);
    put_object(
        &bucket,
        "backups/shop/users/20990102T000000.000Z.dump",
        truncated,
    )
    .await;
    let failed = run_err(&env, &["restore", "postgres", "latest"]).await;
    assert!(failed.contains("pg_restore failed"), "{failed}");
    assert_eq!(table_contents(&url).await, before);
    drop_database(&name).await;
}

#[tokio::test]
async fn damaged_document_backups_are_refused_before_anything_is_written() {
    let bucket = s3_bucket().await;
    let db_name = unique_name("backup_docs_bad");
    let mut env = s3_env(&bucket, "shop", "catalog-documents");
    env.push(("BACKUP_MONGODB_URL".into(), mongodb_url()));
    env.push(("BACKUP_MONGODB_DATABASE".into(), db_name.clone()));

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"format\":\"storefront-documents\",\"version\":1,\"database\":\"x\"}\n{\"collection\":\"products\",\"indexes\":[]}\n{\"collection\":\"products\",\"document\":{\"_id\":\"a\"}}\n").unwrap();
    put_object(
        &bucket,
        "backups/shop/catalog-documents/20990101T000000.000Z.ndjson.gz",
        gz.finish().unwrap(),
    )
    .await;
    let truncated = run_err(&env, &["restore", "documents"]).await;
    assert!(
        truncated.contains("is not a valid documents backup: it is truncated"),
        "{truncated}"
    );

    put_object(
        &bucket,
        "backups/shop/catalog-documents/20990102T000000.000Z.ndjson.gz",
        b"\x1f\x8bnot really".to_vec(),
    )
    .await;
    let garbage = run_err(&env, &["restore", "documents"]).await;
    assert!(garbage.contains("does not decompress"), "{garbage}");

    let client = mongodb::Client::with_uri_str(mongodb_url()).await.unwrap();
    let names = client
        .database(&db_name)
        .list_collection_names()
        .await
        .unwrap();
    assert!(names.is_empty(), "{names:?}");
}
