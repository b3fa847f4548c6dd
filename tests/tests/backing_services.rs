//! Smoke tests: one real round trip through each backing service, with the client crate the services use.
//! Run against the stack of `cargo xtask up` or the services `cargo xtask test` starts.

use std::time::Duration;

use elasticsearch::http::request::JsonBody;
use elasticsearch::http::transport::Transport;
use elasticsearch::indices::{IndicesCreateParts, IndicesDeleteParts};
use elasticsearch::params::Refresh;
use elasticsearch::{BulkParts, Elasticsearch, SearchParts};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::IndexOptions;
use mongodb::{Client as MongoClient, IndexModel};
use redis::AsyncCommands;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};
use storefront_tests::{
    install_crypto_provider, mongodb_url, opensearch_url, postgres_url, redis_url, unique_name,
};

const DUPLICATE_KEY: i32 = 11000;

#[tokio::test]
async fn postgres_round_trip_in_a_throwaway_database() {
    install_crypto_provider();
    let admin_options: PgConnectOptions = postgres_url().parse().expect("STOREFRONT_POSTGRES_URL");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(admin_options.clone())
        .await
        .expect("connect to PostgreSQL");
    let database = unique_name("smoke");
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{database}\"")))
        .execute(&admin)
        .await
        .expect("create database");

    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(admin_options.database(&database))
        .await
        .expect("connect to the new database");
    sqlx::query("CREATE TABLE items (sku text PRIMARY KEY, price_minor bigint NOT NULL)")
        .execute(&pool)
        .await
        .expect("create table");
    sqlx::query("INSERT INTO items (sku, price_minor) VALUES ($1, $2), ($3, $4)")
        .bind("SKU-1")
        .bind(1999_i64)
        .bind("SKU-2")
        .bind(500_i64)
        .execute(&pool)
        .await
        .expect("insert");
    let row = sqlx::query("SELECT sku, price_minor FROM items WHERE price_minor > $1")
        .bind(1000_i64)
        .fetch_one(&pool)
        .await
        .expect("select");
    assert_eq!(row.get::<String, _>("sku"), "SKU-1");
    assert_eq!(row.get::<i64, _>("price_minor"), 1999);
    pool.close().await;

    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE \"{database}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .expect("drop database");
}

#[tokio::test]
async fn redis_set_get_and_expire() {
    install_crypto_provider();
    let client = redis::Client::open(redis_url()).expect("STOREFRONT_REDIS_URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    let key = unique_name("smoke:key");

    let () = conn.set(&key, "hello").await.expect("SET");
    let value: String = conn.get(&key).await.expect("GET");
    assert_eq!(value, "hello");

    let applied: bool = conn.expire(&key, 60).await.expect("EXPIRE");
    assert!(applied, "EXPIRE on an existing key");
    let ttl: i64 = conn.ttl(&key).await.expect("TTL");
    assert!((1..=60).contains(&ttl), "ttl {ttl}");

    let deleted: i64 = conn.del(&key).await.expect("DEL");
    assert_eq!(deleted, 1);
}

#[tokio::test]
async fn mongodb_insert_find_and_unique_index() {
    install_crypto_provider();
    let client = MongoClient::with_uri_str(mongodb_url())
        .await
        .expect("STOREFRONT_MONGODB_URL");
    let db = client.database(&unique_name("smoke"));
    let products = db.collection::<Document>("products");

    products
        .create_index(
            IndexModel::builder()
                .keys(doc! { "sku": 1 })
                .options(IndexOptions::builder().unique(true).build())
                .build(),
        )
        .await
        .expect("create unique index");
    products
        .insert_one(doc! { "sku": "SKU-1", "name": "Blue mug", "price": { "amount": 1299, "currency": "EUR" } })
        .await
        .expect("insert SKU-1");
    products
        .insert_one(doc! { "sku": "SKU-2", "name": "Red mug", "price": { "amount": 999, "currency": "EUR" } })
        .await
        .expect("insert SKU-2");

    let found: Vec<Document> = products
        .find(doc! { "price.amount": { "$gt": 1000 } })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read cursor");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get_str("sku").expect("sku"), "SKU-1");

    let duplicate = products
        .insert_one(doc! { "sku": "SKU-1", "name": "Another blue mug" })
        .await
        .expect_err("a second SKU-1 violates the unique index");
    match *duplicate.kind {
        ErrorKind::Write(WriteFailure::WriteError(ref e)) => assert_eq!(e.code, DUPLICATE_KEY),
        ref other => panic!("expected a duplicate key write error, got {other:?}"),
    }

    db.drop().await.expect("drop database");
}

#[tokio::test]
async fn search_index_bulk_and_fuzzy_query() {
    install_crypto_provider();
    let transport = Transport::single_node(&opensearch_url()).expect("STOREFRONT_OPENSEARCH_URL");
    let client = Elasticsearch::new(transport);
    let index = unique_name("smoke");

    let created = client
        .indices()
        .create(IndicesCreateParts::Index(&index))
        .body(json!({
            "settings": { "number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s" },
            "mappings": { "properties": {
                "sku": { "type": "keyword" },
                "name": { "type": "text" },
                "description": { "type": "text" },
                "price": { "type": "long" }
            } }
        }))
        .send()
        .await
        .expect("create index");
    assert!(
        created.status_code().is_success(),
        "create index: {}",
        created.status_code()
    );

    let docs = [
        json!({ "sku": "SKU-1", "name": "Blue ceramic mug", "description": "Holds coffee", "price": 1299 }),
        json!({ "sku": "SKU-2", "name": "Red teapot", "description": "Holds tea", "price": 3499 }),
        json!({ "sku": "SKU-3", "name": "Green mug", "description": "Stoneware", "price": 999 }),
    ];
    let body: Vec<JsonBody<Value>> = docs
        .iter()
        .flat_map(|d| {
            [
                json!({ "index": { "_id": d["sku"] } }).into(),
                d.clone().into(),
            ]
        })
        .collect();
    let bulk = client
        .bulk(BulkParts::Index(&index))
        .refresh(Refresh::WaitFor)
        .body(body)
        .send()
        .await
        .expect("bulk index");
    let bulk: Value = bulk.json().await.expect("bulk response");
    assert_eq!(bulk["errors"], json!(false), "bulk: {bulk}");

    // "mgu" is one transposition away from "mug".
    let response = client
        .search(SearchParts::Index(&[&index]))
        .body(json!({
            "query": { "multi_match": {
                "query": "mgu",
                "fields": ["name^2", "description"],
                "fuzziness": "AUTO"
            } },
            "sort": [{ "price": "asc" }]
        }))
        .send()
        .await
        .expect("search");
    let response: Value = response.json().await.expect("search response");
    let skus: Vec<&str> = response["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|hit| hit["_source"]["sku"].as_str())
        .collect();
    assert_eq!(skus, ["SKU-3", "SKU-1"], "search: {response}");

    let deleted = client
        .indices()
        .delete(IndicesDeleteParts::Index(&[&index]))
        .send()
        .await
        .expect("delete index");
    assert!(deleted.status_code().is_success());
}
