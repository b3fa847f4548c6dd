//! A PostgreSQL database with several related tables survives backup, drop, restore.

use storefront_kit::testing::{create_database, drop_database, unique_name};

use crate::common::{backed_up_key, recreate_database, run_ok, s3_bucket, s3_env, table_contents};

/// Tables shaped like the users and orders databases: keys, foreign keys, JSON, money, nulls.
pub async fn fill(url: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    for statement in [
        "CREATE TABLE accounts (id uuid PRIMARY KEY, email text NOT NULL UNIQUE, name text, \
         created_at timestamptz NOT NULL, roles text[] NOT NULL)",
        "CREATE TABLE orders (id bigserial PRIMARY KEY, account uuid NOT NULL REFERENCES accounts(id), \
         total_minor bigint NOT NULL, currency char(3) NOT NULL, lines jsonb NOT NULL, note text)",
        "CREATE INDEX orders_by_account ON orders (account)",
        "INSERT INTO accounts SELECT md5(i::text)::uuid, 'user' || i || '@example.test', \
         CASE WHEN i % 7 = 0 THEN NULL ELSE 'Name ' || i END, \
         timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute', \
         CASE WHEN i % 50 = 0 THEN ARRAY['admin', 'customer'] ELSE ARRAY['customer'] END \
         FROM generate_series(1, 300) i",
        "INSERT INTO orders (account, total_minor, currency, lines, note) \
         SELECT md5((1 + i % 300)::text)::uuid, i * 137, CASE WHEN i % 3 = 0 THEN 'USD' ELSE 'EUR' END, \
         jsonb_build_array(jsonb_build_object('sku', 'SKU-' || i, 'quantity', 1 + i % 4)), \
         CASE WHEN i % 5 = 0 THEN E'gift \\u00e9 \"wrap\"' END \
         FROM generate_series(1, 1200) i",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn a_postgres_database_comes_back_row_for_row() {
    let bucket = s3_bucket().await;
    let (url, name) = create_database("backup_pg").await;
    fill(&url).await;
    let before = table_contents(&url).await;
    assert_eq!(before["public.accounts"].len(), 300);
    assert_eq!(before["public.orders"].len(), 1200);

    let store = unique_name("shop").replace('_', "-");
    let mut env = s3_env(&bucket, &store, "users");
    env.push(("BACKUP_POSTGRES_URL".into(), url.clone()));
    let key = backed_up_key(&run_ok(&env, &["backup", "postgres"]).await);
    assert!(key.starts_with(&format!("{store}/users/")) && key.ends_with(".dump"));

    recreate_database(&name).await;
    assert!(table_contents(&url).await.is_empty());

    let restored = run_ok(&env, &["restore", "postgres", "latest"]).await;
    assert!(restored.contains(&key), "{restored}");
    assert_eq!(table_contents(&url).await, before);

    // Restoring over the live database replaces what it holds.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM orders WHERE id % 2 = 0")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let file = key.rsplit('/').next().unwrap();
    run_ok(&env, &["restore", "postgres", file]).await;
    assert_eq!(table_contents(&url).await, before);
    drop_database(&name).await;
}

#[tokio::test]
async fn a_directory_target_round_trips_too() {
    let dir = std::env::temp_dir().join(unique_name("backups"));
    let (url, name) = create_database("backup_dir").await;
    fill(&url).await;
    let before = table_contents(&url).await;
    let env: Vec<(String, String)> = [
        ("BACKUP_STORE", "shop"),
        ("BACKUP_DATABASE", "orders"),
        ("BACKUP_DIR", dir.to_str().unwrap()),
        ("BACKUP_POSTGRES_URL", &url),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let key = backed_up_key(&run_ok(&env, &["backup", "postgres"]).await);
    assert!(dir.join(&key).is_file());
    recreate_database(&name).await;
    run_ok(&env, &["restore", "postgres"]).await;
    assert_eq!(table_contents(&url).await, before);
    drop_database(&name).await;
    let _ = std::fs::remove_dir_all(dir);
}
