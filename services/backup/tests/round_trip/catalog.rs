//! The catalog's two stores — the PostgreSQL ledger made by its migrations and the MongoDB
//! documents — seeded with the demo catalog, backed up, wiped, restored.

use std::sync::Arc;

use storefront_catalog::images::{ImageLimits, LocalDirectory};
use storefront_catalog::{AppState, prepare, seed};
use storefront_kit::testing::{
    create_database, drop_database, mongodb_url, test_verifier, unique_name,
};

use crate::common::{
    documents, recreate_database, run_err, run_ok, s3_bucket, s3_env, table_contents,
};

#[tokio::test]
async fn the_seeded_catalog_comes_back_document_for_document_and_row_for_row() {
    storefront_kit::install_crypto_provider();
    let (ledger_url, ledger_name) = create_database("backup_ledger").await;
    let ledger = storefront_catalog::ledger::connect(&ledger_url, 4)
        .await
        .unwrap();
    let client = mongodb::Client::with_uri_str(mongodb_url()).await.unwrap();
    let db_name = unique_name("backup_docs");
    let db = client.database(&db_name);
    prepare(&ledger, &db).await.unwrap();
    let images = std::env::temp_dir().join(unique_name("backup-images"));
    let state = AppState {
        ledger: ledger.clone(),
        documents: db.clone(),
        verifier: test_verifier(),
        images: Arc::new(LocalDirectory::new(&images)),
        limits: ImageLimits::default(),
    };
    let report = seed::run(&state).await.unwrap();
    assert!(report.products_created > 0);
    ledger.close().await;

    let rows_before = table_contents(&ledger_url).await;
    let docs_before = documents(&db).await;
    let total_docs: usize = docs_before.values().map(|(d, _)| d.len()).sum();
    assert!(total_docs >= report.products_created + report.categories_created);
    assert!(
        rows_before
            .values()
            .any(|rows| rows.len() >= report.products_created)
    );

    let bucket = s3_bucket().await;
    let store = unique_name("shop").replace('_', "-");
    let mut ledger_env = s3_env(&bucket, &store, "catalog-ledger");
    ledger_env.push(("BACKUP_POSTGRES_URL".into(), ledger_url.clone()));
    let mut docs_env = s3_env(&bucket, &store, "catalog-documents");
    docs_env.push(("BACKUP_MONGODB_URL".into(), mongodb_url()));
    docs_env.push(("BACKUP_MONGODB_DATABASE".into(), db_name.clone()));
    run_ok(&ledger_env, &["backup", "postgres"]).await;
    run_ok(&docs_env, &["backup", "documents"]).await;

    recreate_database(&ledger_name).await;
    db.drop().await.unwrap();
    assert!(documents(&db).await.is_empty());

    run_ok(&ledger_env, &["restore", "postgres", "latest"]).await;
    run_ok(&docs_env, &["restore", "documents", "latest"]).await;
    assert_eq!(table_contents(&ledger_url).await, rows_before);
    assert_eq!(documents(&db).await, docs_before);

    // A database that holds documents is not overwritten unless asked.
    let refused = run_err(&docs_env, &["restore", "documents", "latest"]).await;
    assert!(refused.contains("not empty"), "{refused}");
    db.collection::<mongodb::bson::Document>("products")
        .delete_many(mongodb::bson::doc! {})
        .await
        .unwrap();
    run_ok(&docs_env, &["restore", "documents", "latest", "--replace"]).await;
    assert_eq!(documents(&db).await, docs_before);

    db.drop().await.unwrap();
    drop_database(&ledger_name).await;
    let _ = std::fs::remove_dir_all(images);
}
