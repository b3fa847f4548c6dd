//! Writing children to the API server: server-side apply with the operator's field manager, and
//! create-if-absent for generated Secrets.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Mutex;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::meta::MANAGER;

/// What applying one object did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

/// Remembers when the operator last changed each child (the `time` of its managed-fields entry),
/// so that a no-op apply is told apart from one that changed something.
#[derive(Debug, Default)]
pub struct ChangeTracker {
    applied: Mutex<HashMap<String, String>>,
}

impl ChangeTracker {
    fn record<K: Resource<DynamicType = ()>>(&self, obj: &K) -> Change {
        let meta = obj.meta();
        let key = format!(
            "{}/{}/{}",
            K::kind(&()),
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default()
        );
        let applied_at = meta
            .managed_fields
            .iter()
            .flatten()
            .find(|f| {
                f.manager.as_deref() == Some(MANAGER) && f.operation.as_deref() == Some("Apply")
            })
            .and_then(|f| f.time.as_ref())
            .map(|t| t.0.to_string())
            .unwrap_or_default();
        let created_at = meta
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default();
        let previous = self
            .applied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, applied_at.clone());
        match previous {
            Some(p) if p == applied_at => Change::Unchanged,
            Some(_) => Change::Updated,
            // First sight since the operator started: only a fresh object counts as created.
            None if applied_at == created_at && is_recent(&created_at) => Change::Created,
            None => Change::Unchanged,
        }
    }

    /// Forgets every child of a deleted Storefront.
    pub fn forget(&self, namespace: &str, instance_prefix: &str) {
        let prefix = format!("/{namespace}/{instance_prefix}-");
        self.applied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| !k.contains(&prefix));
    }
}

fn is_recent(rfc3339: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds() < 60)
        .unwrap_or(false)
}

/// Server-side applies `obj` (forcing ownership of the fields it sets) and returns the object as
/// stored, with its status.
pub async fn apply<K>(client: &Client, obj: &K, tracker: &ChangeTracker) -> Result<(K, Change)>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let namespace = obj
        .meta()
        .namespace
        .as_deref()
        .ok_or(Error::MissingField("namespace"))?;
    let name = obj
        .meta()
        .name
        .as_deref()
        .ok_or(Error::MissingField("name"))?;
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let stored = api
        .patch(
            name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(obj),
        )
        .await?;
    metrics::counter!(crate::metrics::APPLIED_OBJECTS, "kind" => K::kind(&()).into_owned())
        .increment(1);
    let change = tracker.record(&stored);
    Ok((stored, change))
}

/// Creates `secret` unless a Secret of that name exists. Generated credentials are never
/// overwritten; `generate` runs only when the Secret is missing.
pub async fn create_secret_if_absent(
    client: &Client,
    namespace: &str,
    name: &str,
    generate: impl FnOnce() -> Result<Secret>,
) -> Result<Change> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    if api.get_metadata_opt(name).await?.is_some() {
        return Ok(Change::Unchanged);
    }
    let secret = generate()?;
    let params = PostParams {
        field_manager: Some(MANAGER.into()),
        ..PostParams::default()
    };
    match api.create(&params, &secret).await {
        Ok(_) => Ok(Change::Created),
        // Created concurrently (e.g. by the previous leader): keep theirs.
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(Change::Unchanged),
        Err(e) => Err(e.into()),
    }
}

/// Deletes `name` if it exists and is controlled by the Storefront with `owner_uid`; objects of
/// the same name that belong to someone else are left alone.
pub async fn delete_if_owned<K>(
    client: &Client,
    namespace: &str,
    name: &str,
    owner_uid: &str,
) -> Result<bool>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let Some(meta) = api.get_metadata_opt(name).await? else {
        return Ok(false);
    };
    let owned = meta
        .owner_references()
        .iter()
        .any(|o| o.uid == owner_uid && o.controller == Some(true));
    if !owned {
        return Ok(false);
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: meta.uid().clone(),
            resource_version: None,
        }),
        ..DeleteParams::background()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(false),
        Err(e) => Err(e.into()),
    }
}
