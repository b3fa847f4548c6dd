//! A missing, damaged or truncated backup stops the restore with one clear line and a non-zero
//! exit, before the target is touched.

use std::io::Write;

use storefront_kit::testing::{create_database, drop_database, mongodb_url, unique_name};

use crate::common::{put_object, run_err, run_ok, s3_bucket, s3_env, table_contents};

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
