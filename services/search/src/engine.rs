//! The search engine behind an alias: versioned product indices, writes with external versions
//! (an older change never overwrites a newer one), atomic alias swaps, and the sync checkpoint.

use std::time::Duration;

use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::indices::{
    IndicesCreateParts, IndicesDeleteParts, IndicesGetAliasParts, IndicesRefreshParts,
};
use elasticsearch::params::{Refresh, VersionType};
use elasticsearch::{BulkOperation, BulkParts, Elasticsearch, GetParts, IndexParts, SearchParts};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::mapping;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("search engine unreachable: {0}")]
    Unreachable(#[from] elasticsearch::Error),
    #[error("search engine answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("bad search engine URL: {0}")]
    Url(String),
}

/// What the index holds for one product. A removed product stays as a tombstone (`deleted`)
/// carrying its last version, so a late, older update can never bring it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProductDoc {
    pub id: String,
    pub version: i64,
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub category_ids: Vec<String>,
    #[serde(default)]
    pub category_names: Vec<String>,
    /// `name=value` pairs of every variant.
    #[serde(default)]
    pub attributes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default)]
    pub in_stock: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl ProductDoc {
    pub fn tombstone(id: &str, version: i64) -> Self {
        Self {
            id: id.to_owned(),
            version,
            deleted: true,
            ..Default::default()
        }
    }
}

/// How a batch of writes went: versions older than the indexed one are skipped, not errors.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    pub written: usize,
    pub stale: usize,
}

#[derive(Clone)]
pub struct Engine {
    client: Elasticsearch,
    alias: String,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("alias", &self.alias)
            .finish()
    }
}

impl Engine {
    /// `alias` names the product alias (e.g. `products`); indices are `<alias>-v<n>`, and the
    /// checkpoint lives in `<alias>-sync`.
    pub fn connect(url: &str, alias: &str, timeout: Duration) -> Result<Self, EngineError> {
        let url = url.parse().map_err(|e| EngineError::Url(format!("{e}")))?;
        let transport = TransportBuilder::new(SingleNodeConnectionPool::new(url))
            .timeout(timeout)
            .build()
            .map_err(|e| EngineError::Url(e.to_string()))?;
        Ok(Self {
            client: Elasticsearch::new(transport),
            alias: alias.to_owned(),
        })
    }

    pub fn alias(&self) -> &str {
        &self.alias
    }

    fn sync_index(&self) -> String {
        format!("{}-sync", self.alias)
    }

    /// Reachable and not red.
    pub async fn ping(&self) -> Result<(), EngineError> {
        let response = self
            .client
            .cluster()
            .health(elasticsearch::cluster::ClusterHealthParts::None)
            .send()
            .await?;
        let body = checked::<Value>(response).await?;
        match body["status"].as_str() {
            Some("green" | "yellow") => Ok(()),
            other => Err(EngineError::Status {
                status: 503,
                body: format!("cluster status {other:?}"),
            }),
        }
    }

    /// The index the alias points at, if any.
    pub async fn current_index(&self) -> Result<Option<String>, EngineError> {
        let response = self
            .client
            .indices()
            .get_alias(IndicesGetAliasParts::Name(&[&self.alias]))
            .send()
            .await?;
        if response.status_code().as_u16() == 404 {
            return Ok(None);
        }
        let body = checked::<Value>(response).await?;
        Ok(body
            .as_object()
            .and_then(|indices| indices.keys().max().cloned()))
    }

    /// Creates the first index and alias when none exist; returns the live index.
    pub async fn ensure_alias(&self) -> Result<String, EngineError> {
        if let Some(index) = self.current_index().await? {
            return Ok(index);
        }
        let index = self.create_index().await?;
        let response = self
            .client
            .indices()
            .update_aliases()
            .body(json!({ "actions": [{ "add": { "index": index, "alias": self.alias } }] }))
            .send()
            .await?;
        checked::<Value>(response).await?;
        Ok(index)
    }

    /// A fresh, empty versioned index (not yet behind the alias).
    pub async fn create_index(&self) -> Result<String, EngineError> {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let index = format!("{}-v{millis}", self.alias);
        let body = mapping::product_index(&mapping::synonym_rules(mapping::SYNONYMS));
        let response = self
            .client
            .indices()
            .create(IndicesCreateParts::Index(&index))
            .body(body)
            .send()
            .await?;
        checked::<Value>(response).await?;
        Ok(index)
    }

    /// Points the alias at `new_index` and away from every other index, in one atomic step.
    pub async fn swap_alias(&self, new_index: &str) -> Result<Option<String>, EngineError> {
        let old = self.current_index().await?;
        let mut actions = vec![json!({ "add": { "index": new_index, "alias": self.alias } })];
        if let Some(old) = old.as_deref().filter(|o| *o != new_index) {
            actions.push(json!({ "remove": { "index": old, "alias": self.alias } }));
        }
        let response = self
            .client
            .indices()
            .update_aliases()
            .body(json!({ "actions": actions }))
            .send()
            .await?;
        checked::<Value>(response).await?;
        Ok(old.filter(|o| o != new_index))
    }

    pub async fn delete_index(&self, index: &str) -> Result<(), EngineError> {
        let response = self
            .client
            .indices()
            .delete(IndicesDeleteParts::Index(&[index]))
            .send()
            .await?;
        checked::<Value>(response).await?;
        Ok(())
    }

    /// Writes documents into `index` with their product version as external version.
    pub async fn write(
        &self,
        index: &str,
        docs: &[ProductDoc],
    ) -> Result<WriteOutcome, EngineError> {
        if docs.is_empty() {
            return Ok(WriteOutcome::default());
        }
        let operations: Vec<BulkOperation<Value>> = docs
            .iter()
            .map(|doc| {
                BulkOperation::index(serde_json::to_value(doc).unwrap_or(Value::Null))
                    .id(&doc.id)
                    .version(doc.version)
                    .version_type(VersionType::External)
                    .into()
            })
            .collect();
        let response = self
            .client
            .bulk(BulkParts::Index(index))
            .body(operations)
            .send()
            .await?;
        let body = checked::<Value>(response).await?;
        let mut outcome = WriteOutcome::default();
        for item in body["items"].as_array().into_iter().flatten() {
            let result = &item["index"];
            match result["status"].as_u64() {
                Some(200 | 201) => outcome.written += 1,
                // version_conflict_engine_exception: the index already has this or a newer version.
                Some(409) => outcome.stale += 1,
                _ => {
                    return Err(EngineError::Status {
                        status: result["status"].as_u64().unwrap_or(500) as u16,
                        body: result["error"].to_string(),
                    });
                }
            }
        }
        Ok(outcome)
    }

    /// Runs a search against the alias.
    pub async fn search(&self, body: Value) -> Result<Value, EngineError> {
        self.search_as(&body).await
    }

    /// Runs a search against the alias and decodes only what `T` declares of the answer.
    pub async fn search_as<T: DeserializeOwned>(&self, body: &Value) -> Result<T, EngineError> {
        let response = self
            .client
            .search(SearchParts::Index(&[&self.alias]))
            .body(body)
            .send()
            .await?;
        checked(response).await
    }

    /// Makes recent writes to the live index searchable now (tests only).
    pub async fn refresh(&self) -> Result<(), EngineError> {
        self.refresh_index(&self.alias).await
    }

    /// Makes every write to `index` searchable now: a rebuilt index before the alias moves to
    /// it, so no search meets it half-filled.
    pub async fn refresh_index(&self, index: &str) -> Result<(), EngineError> {
        let response = self
            .client
            .indices()
            .refresh(IndicesRefreshParts::Index(&[index]))
            .send()
            .await?;
        checked::<Value>(response).await?;
        Ok(())
    }

    /// The last change-feed cursor fully applied, if any.
    pub async fn checkpoint(&self) -> Result<Option<String>, EngineError> {
        let index = self.sync_index();
        let response = self
            .client
            .get(GetParts::IndexId(&index, "checkpoint"))
            .send()
            .await?;
        if response.status_code().as_u16() == 404 {
            return Ok(None);
        }
        let body = checked::<Value>(response).await?;
        Ok(body["_source"]["cursor"].as_str().map(str::to_owned))
    }

    /// Records `cursor` durably (refresh=wait_for: it survives a restart right after).
    pub async fn save_checkpoint(&self, cursor: &str) -> Result<(), EngineError> {
        let index = self.sync_index();
        let response = self
            .client
            .index(IndexParts::IndexId(&index, "checkpoint"))
            .refresh(Refresh::WaitFor)
            .body(json!({ "cursor": cursor }))
            .send()
            .await?;
        checked::<Value>(response).await?;
        Ok(())
    }
}

async fn checked<T: DeserializeOwned>(
    response: elasticsearch::http::response::Response,
) -> Result<T, EngineError> {
    let status = response.status_code().as_u16();
    if (200..300).contains(&status) {
        Ok(response.json::<T>().await?)
    } else {
        let body = response.text().await.unwrap_or_default();
        Err(EngineError::Status {
            status,
            body: body.chars().take(500).collect(),
        })
    }
}
