//! Keeps the index equal to the catalog: follows the catalog's change feed from a durable
//! checkpoint, and on request (or when a category is renamed or moved, which changes many
//! documents) rebuilds a new index from the whole feed and swaps the alias to it atomically.
//!
//! One task does both, so the checkpoint always describes the index the alias points at.
//! Writes carry the product version as external version, so replaying a change twice (after a
//! crash between a write and its checkpoint) is harmless.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use storefront_kit::Shutdown;
use tokio::sync::{RwLock, mpsc, oneshot};

use crate::catalog::{CatalogClient, Categories, Change, product_doc};
use crate::engine::{Engine, WriteOutcome};

pub const BATCH: u32 = 500;

#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// The last change applied to the live index.
    pub checkpoint: Option<String>,
    pub index: Option<String>,
    pub changes_applied: u64,
    pub stale_skipped: u64,
    pub last_error: Option<String>,
    pub reindexes: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReindexReport {
    pub index: String,
    pub previous_index: Option<String>,
    /// Changes replayed into the new index.
    pub changes_applied: usize,
    pub took_ms: u64,
}

type ReindexReply = oneshot::Sender<Result<ReindexReport, String>>;

/// What the HTTP side holds: the status, and a way to ask for a rebuild.
#[derive(Debug, Clone)]
pub struct SyncHandle {
    status: Arc<RwLock<SyncStatus>>,
    requests: mpsc::Sender<ReindexReply>,
}

impl SyncHandle {
    pub async fn status(&self) -> SyncStatus {
        self.status.read().await.clone()
    }

    /// Rebuilds the index from the whole catalog; completes when the alias has moved.
    pub async fn reindex(&self) -> Result<ReindexReport, String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(reply)
            .await
            .map_err(|_| "the sync task has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the sync task stopped during the rebuild".to_owned())?
    }
}

/// The follower; [`Follower::run`] until shutdown.
pub struct Follower {
    engine: Engine,
    catalog: CatalogClient,
    poll_interval: Duration,
    status: Arc<RwLock<SyncStatus>>,
    requests: mpsc::Receiver<ReindexReply>,
    /// The category tree, loaded on first use.
    categories: Option<Categories>,
    /// The last change applied to the live index: `None` until read from the engine, then kept
    /// here, so that a checkpoint that failed to save does not send the next batch back to the
    /// older stored one (the changes in between would be applied twice).
    applied: Option<Option<String>>,
    /// Whether `applied` is what the engine has stored.
    saved: bool,
}

impl Follower {
    pub fn new(
        engine: Engine,
        catalog: CatalogClient,
        poll_interval: Duration,
    ) -> (Self, SyncHandle) {
        let status = Arc::new(RwLock::new(SyncStatus::default()));
        let (sender, requests) = mpsc::channel(4);
        let follower = Self {
            engine,
            catalog,
            poll_interval,
            status: status.clone(),
            requests,
            categories: None,
            applied: None,
            saved: true,
        };
        (
            follower,
            SyncHandle {
                status,
                requests: sender,
            },
        )
    }

    pub async fn run(mut self, shutdown: Shutdown) {
        let mut backoff = self.poll_interval;
        while !shutdown.is_triggered() {
            let pending = self.requests.try_recv().ok();
            let result = match pending {
                Some(reply) => {
                    let outcome = self.rebuild().await;
                    let failed = outcome.as_ref().err().cloned();
                    let _ = reply.send(outcome);
                    failed.map_or(Ok(false), Err)
                }
                None => self.step().await,
            };
            let wait = match result {
                Ok(true) => {
                    backoff = self.poll_interval;
                    Duration::ZERO
                }
                Ok(false) => {
                    backoff = self.poll_interval;
                    self.poll_interval
                }
                Err(error) => {
                    tracing::warn!(%error, retry_ms = backoff.as_millis(), "search sync failed");
                    self.status.write().await.last_error = Some(error);
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    backoff
                }
            };
            if !wait.is_zero() {
                tokio::select! {
                    () = shutdown.wait() => break,
                    () = tokio::time::sleep(wait) => {}
                    Some(reply) = self.requests.recv() => {
                        let outcome = self.rebuild().await;
                        let _ = reply.send(outcome);
                    }
                }
            }
        }
        tracing::info!("search sync stopped");
    }

    /// Applies the next batch of changes. `Ok(true)` when there may be more right away.
    async fn step(&mut self) -> Result<bool, String> {
        let index = self
            .engine
            .ensure_alias()
            .await
            .map_err(|e| e.to_string())?;
        let checkpoint = match &self.applied {
            Some(applied) => applied.clone(),
            None => {
                let stored = self.engine.checkpoint().await.map_err(|e| e.to_string())?;
                self.applied = Some(stored.clone());
                self.saved = true;
                stored
            }
        };
        if self.categories.is_none() {
            self.categories = Some(self.catalog.categories().await.map_err(|e| e.to_string())?);
        }
        let page = self
            .catalog
            .changes(checkpoint.as_deref(), BATCH)
            .await
            .map_err(|e| e.to_string())?;
        if page.items.is_empty() {
            self.save_checkpoint().await?;
            let mut status = self.status.write().await;
            status.checkpoint = checkpoint;
            status.index = Some(index);
            status.last_error = None;
            return Ok(false);
        }
        if self.categories_changed(&page.items).await? {
            tracing::info!("a category was renamed or moved; rebuilding the index");
            self.rebuild().await?;
            return Ok(true);
        }
        let outcome = self.apply(self.engine.alias(), &page.items).await?;
        let cursor = page
            .next_cursor
            .or_else(|| page.items.last().map(|c| c.cursor.clone()));
        {
            // Applied, whatever becomes of saving it.
            let mut status = self.status.write().await;
            status.checkpoint = cursor.clone();
            status.index = Some(index);
            status.changes_applied += outcome.written as u64;
            status.stale_skipped += outcome.stale as u64;
        }
        self.applied = Some(cursor);
        self.saved = false;
        self.save_checkpoint().await?;
        self.status.write().await.last_error = None;
        Ok(page.items.len() as u32 == BATCH)
    }

    /// Stores the last applied cursor in the engine, unless it is already there.
    async fn save_checkpoint(&mut self) -> Result<(), String> {
        if self.saved {
            return Ok(());
        }
        if let Some(Some(cursor)) = &self.applied {
            self.engine
                .save_checkpoint(cursor)
                .await
                .map_err(|e| e.to_string())?;
        }
        self.saved = true;
        Ok(())
    }

    /// Refreshes the category tree when the batch touches categories; `true` when an existing
    /// category's name or place changed, which invalidates documents already indexed.
    async fn categories_changed(&mut self, changes: &[Change]) -> Result<bool, String> {
        if !changes.iter().any(|c| c.kind == "category") {
            return Ok(false);
        }
        let fresh = self.catalog.categories().await.map_err(|e| e.to_string())?;
        let invalidated = self.categories.iter().flatten().any(|(id, old)| {
            fresh
                .get(id)
                .is_none_or(|new| new.name != old.name || new.path != old.path)
        });
        self.categories = Some(fresh);
        Ok(invalidated)
    }

    async fn apply(&self, index: &str, changes: &[Change]) -> Result<WriteOutcome, String> {
        let docs: Vec<_> = changes
            .iter()
            .filter(|c| c.kind == "product")
            .map(|c| product_doc(c, self.categories.as_ref().unwrap_or(&Categories::new())))
            .collect();
        self.engine
            .write(index, &docs)
            .await
            .map_err(|e| e.to_string())
    }

    /// Replays the whole feed into a new index, then swaps the alias and the checkpoint to it.
    async fn rebuild(&mut self) -> Result<ReindexReport, String> {
        let started = Instant::now();
        self.categories = Some(self.catalog.categories().await.map_err(|e| e.to_string())?);
        let index = self
            .engine
            .create_index()
            .await
            .map_err(|e| e.to_string())?;
        let result = match self.fill(&index).await {
            Ok(filled) => self
                .engine
                .refresh_index(&index)
                .await
                .map(|()| filled)
                .map_err(|e| e.to_string()),
            Err(error) => Err(error),
        };
        let (changes_applied, cursor) = match result {
            Ok(filled) => filled,
            Err(error) => {
                let _ = self.engine.delete_index(&index).await;
                return Err(error);
            }
        };
        let previous = self
            .engine
            .swap_alias(&index)
            .await
            .map_err(|e| e.to_string())?;
        // The alias has moved: the new index's position holds from now on, saved or not.
        self.applied = Some(cursor.clone());
        self.saved = false;
        self.save_checkpoint().await?;
        if let Some(previous) = &previous
            && let Err(error) = self.engine.delete_index(previous).await
        {
            tracing::warn!(%error, %previous, "old index not deleted");
        }
        let report = ReindexReport {
            index: index.clone(),
            previous_index: previous,
            changes_applied,
            took_ms: started.elapsed().as_millis() as u64,
        };
        let mut status = self.status.write().await;
        status.checkpoint = cursor;
        status.index = Some(index);
        status.reindexes += 1;
        status.last_error = None;
        tracing::info!(?report, "index rebuilt");
        Ok(report)
    }

    async fn fill(&self, index: &str) -> Result<(usize, Option<String>), String> {
        let mut cursor: Option<String> = None;
        let mut applied = 0;
        loop {
            let page = self
                .catalog
                .changes(cursor.as_deref(), BATCH)
                .await
                .map_err(|e| e.to_string())?;
            if page.items.is_empty() {
                return Ok((applied, cursor));
            }
            applied += self.apply(index, &page.items).await?.written;
            cursor = page
                .next_cursor
                .or_else(|| page.items.last().map(|c| c.cursor.clone()));
        }
    }
}
