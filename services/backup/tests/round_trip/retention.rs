//! Only the newest `BACKUP_RETENTION` backups of a database are kept.

use storefront_kit::testing::{create_database, drop_database, unique_name};

use crate::common::{backed_up_key, run_ok, s3_bucket, s3_env};

#[tokio::test]
async fn older_backups_beyond_the_retention_are_pruned() {
    let bucket = s3_bucket().await;
    let (url, name) = create_database("backup_keep").await;
    let store = unique_name("shop").replace('_', "-");
    let mut env = s3_env(&bucket, &store, "orders");
    env.push(("BACKUP_POSTGRES_URL".into(), url.clone()));
    env.push(("BACKUP_RETENTION".into(), "2".into()));
    // Another database of the same store, which pruning must not touch.
    let mut other = s3_env(&bucket, &store, "users");
    other.push(("BACKUP_POSTGRES_URL".into(), url));
    run_ok(&other, &["backup", "postgres"]).await;

    let mut made = Vec::new();
    for _ in 0..4 {
        made.push(backed_up_key(&run_ok(&env, &["backup", "postgres"]).await));
    }
    let listed: Vec<String> = run_ok(&env, &["list", "postgres"])
        .await
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, made[2..].to_vec());
    assert_eq!(
        run_ok(&other, &["list", "postgres"]).await.lines().count(),
        1
    );
    drop_database(&name).await;
}
