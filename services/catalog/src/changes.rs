//! The change feed search follows: every catalog write appends a row to the ledger's change log
//! in the same transaction, and `GET /internal/changes?after=&limit=` serves them.
//!
//! Sequence numbers commit out of order under concurrent writers, so a follower that paged by
//! sequence alone could pass a lower number that commits later. Each row therefore stores the
//! writing transaction's id; rows are served in `(xid, seq)` order and only below a horizon that
//! every transaction which could still add a row has reached: a transaction still running, or not
//! yet started, has or will get an xid at or above it, so nothing is ever inserted behind a served
//! cursor.
//!
//! The horizon is the oldest transaction in progress in the statement's snapshot (its `xmin`),
//! except that transactions seen running in *another database* are skipped: they can never write
//! this database's change log, and on a shared server (many stores on one RDS instance, or every
//! test's database on one local cluster) one long transaction elsewhere would otherwise stall
//! every feed. A transaction that has ended since the snapshot can't be placed and still counts.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use storefront_kit::{Json, Query};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::Error;
use crate::ids::Version;
use crate::ledger::Tx;
use storefront_kit::page::Page;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Product,
    Category,
}

impl Entity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Category => "category",
        }
    }
}

/// Records a write in the change log, inside the writer's transaction. `document` is `None` for
/// a removal (a tombstone).
pub async fn append(
    tx: &mut Tx,
    entity: Entity,
    id: &str,
    version: Version,
    document: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO changes (entity, entity_id, version, deleted, document) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(entity.as_str())
    .bind(id)
    .bind(version.0)
    .bind(document.is_none())
    .bind(document)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Position in the feed: the transaction id and sequence of the last row seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedCursor {
    pub xid: u64,
    pub seq: i64,
}

impl FeedCursor {
    pub fn parse(value: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("after", "is not a cursor of this feed");
        let (xid, seq) = value.split_once('.').ok_or_else(bad)?;
        Ok(Self {
            xid: xid.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

impl std::fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.xid, self.seq)
    }
}

/// One write: the document as it was written (absent for a removal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Pass as `after` to continue after this change.
    pub cursor: String,
    pub kind: Entity,
    pub id: String,
    pub version: i64,
    pub deleted: bool,
    #[schema(value_type = Object)]
    pub document: Option<serde_json::Value>,
    pub changed_at: DateTime<Utc>,
}

/// Settled changes after `after`, oldest first.
pub async fn read(pool: &PgPool, after: FeedCursor, limit: u32) -> Result<Vec<Change>, Error> {
    let rows = sqlx::query(
        "WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
              horizon AS MATERIALIZED (
                SELECT COALESCE(
                  (SELECT min(x) FROM snapshot, pg_snapshot_xip(snapshot.s) AS x
                    WHERE NOT EXISTS (
                      SELECT 1 FROM pg_stat_activity a
                       WHERE a.backend_xid = x::xid
                         AND a.datname IS DISTINCT FROM current_database())),
                  (SELECT pg_snapshot_xmax(s) FROM snapshot)) AS xid)
         SELECT seq, changes.xid::text AS xid, entity, entity_id, version, deleted, document, created_at
           FROM changes, horizon
          WHERE (changes.xid, seq) > ($1::text::xid8, $2)
            AND changes.xid < horizon.xid
          ORDER BY changes.xid, seq
          LIMIT $3",
    )
    .bind(after.xid.to_string())
    .bind(after.seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let xid: String = row.get("xid");
            let cursor = FeedCursor {
                xid: xid
                    .parse()
                    .map_err(|_| Error::Internal(format!("xid {xid} is not a number")))?,
                seq: row.get("seq"),
            };
            let entity: String = row.get("entity");
            Ok(Change {
                cursor: cursor.to_string(),
                kind: if entity == "category" {
                    Entity::Category
                } else {
                    Entity::Product
                },
                id: row.get("entity_id"),
                version: row.get("version"),
                deleted: row.get("deleted"),
                document: row.get("document"),
                changed_at: row.get("created_at"),
            })
        })
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `cursor` of the last change seen; omit to start from the beginning (a full re-sync).
    pub after: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
}

/// Changes after a cursor. `nextCursor` is where to continue (the request's own `after` when
/// there is nothing new yet), so a follower polls with it forever.
#[utoipa::path(get, path = "/internal/changes", params(FeedQuery), tag = "internal",
    responses((status = 200, body = inline(Page<Change>))))]
pub async fn list_changes(
    State(state): State<AppState>,
    Query(query): Query<FeedQuery>,
) -> Result<Json<Page<Change>>, Error> {
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
    };
    let after = query.after.as_deref().map(FeedCursor::parse).transpose()?;
    let items = read(&state.ledger, after.unwrap_or_default(), limit).await?;
    let next_cursor = items
        .last()
        .map(|c| c.cursor.clone())
        .or_else(|| after.map(|a| a.to_string()));
    Ok(Json(Page { items, next_cursor }))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/internal/changes", get(list_changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = FeedCursor { xid: 7412, seq: 3 };
        assert_eq!(FeedCursor::parse(&c.to_string()).unwrap(), c);
        for bad in ["", "1", "a.b", "1.2.3", "-1.2"] {
            assert!(FeedCursor::parse(bad).is_err(), "{bad}");
        }
    }
}
