//! One reconcile of one Storefront: validate → ensure Secrets → apply the children built by
//! [`crate::children`] → remove children the spec no longer declares → write `status`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use crate::apply::{Change, ChangeTracker, apply, create_secret_if_absent, delete_if_owned};
use crate::backoff::Backoff;
use crate::children::deployment::deployment_at;
use crate::children::secret::{self, OsRandom};
use crate::children::{self, ChildKind, Children};
use crate::component::Component;
use crate::crd::{RolloutPhase, Storefront, StorefrontStatus};
use crate::error::{Error, Result};
use crate::meta::{LABEL_INSTANCE, MANAGED_SELECTOR, MANAGER};
use crate::metrics as m;
use crate::rollout::{self, ORDER, Planner, VersionBook};
use crate::status::{self, Outcome, Workload};
use crate::validate::validate;

/// Requeue interval of a Storefront that is Ready: a periodic resync on top of the watches.
const RESYNC_READY: Duration = Duration::from_secs(300);
/// Requeue interval while something is still rolling out (watches usually come first).
const RESYNC_PROGRESSING: Duration = Duration::from_secs(30);

/// Shared state of all reconciles.
pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub backoff: Backoff,
    pub changes: ChangeTracker,
    pub versions: VersionBook,
}

impl Context {
    pub fn new(client: Client, identity: &str) -> Self {
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: Some(identity.to_string()),
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            backoff: Backoff::default(),
            changes: ChangeTracker::default(),
            versions: VersionBook::default(),
        }
    }

    async fn publish(&self, sf: &Storefront, type_: EventType, reason: &str, note: String) {
        self.publish_about(sf, type_, reason, note, None).await;
    }

    /// An Event on the Storefront about one of its children (`related`). Events of one reason
    /// are aggregated per related object, so each child gets its own.
    async fn publish_about(
        &self,
        sf: &Storefront,
        type_: EventType,
        reason: &str,
        note: String,
        related: Option<ObjectReference>,
    ) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(truncate(note, 1000)),
            action: "Reconcile".into(),
            secondary: related,
        };
        if let Err(e) = self.recorder.publish(&event, &sf.object_ref(&())).await {
            tracing::warn!(error = %e, "could not publish event");
        }
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max - 3;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

/// Key of an object in the backoff table.
pub fn key(sf: &Storefront) -> String {
    format!("{}/{}", sf.namespace().unwrap_or_default(), sf.name_any())
}

/// The controller's reconcile function.
pub async fn reconcile(sf: Arc<Storefront>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    metrics::gauge!(m::IN_FLIGHT).increment(1.0);
    let result = reconcile_storefront(&sf, &ctx).await;
    metrics::gauge!(m::IN_FLIGHT).decrement(1.0);
    metrics::histogram!(m::RECONCILE_DURATION).record(started.elapsed().as_secs_f64());
    metrics::counter!(m::RECONCILES).increment(1);
    match &result {
        Ok(_) => ctx.backoff.reset(&key(&sf)),
        Err(e) => {
            metrics::counter!(m::RECONCILE_ERRORS, "error" => e.metric_label()).increment(1);
            tracing::warn!(storefront = %key(&sf), error = %e, "reconcile failed");
            ctx.publish(&sf, EventType::Warning, "ReconcileFailed", e.to_string())
                .await;
            // Best effort, and only on the first failure in a row: repeated failures must not
            // add reads and writes to an API server that may be the cause.
            let already = sf
                .condition(status::DEGRADED)
                .is_some_and(|c| c.status == "True" && c.reason == "ReconcileFailed");
            if !already {
                let workloads = observe(&ctx.client, &sf).await.unwrap_or_default();
                let status =
                    status::compute(&sf, &workloads, &Outcome::Failed(e.to_string()), &now());
                if let Err(e) = write_status(&ctx.client, &sf, status).await {
                    tracing::debug!(error = %e, "could not record the failure in status");
                }
            }
        }
    }
    result
}

/// Requeues a failed object after its own growing, jittered delay.
pub fn error_policy(sf: Arc<Storefront>, _error: &Error, ctx: Arc<Context>) -> Action {
    Action::requeue(ctx.backoff.next_delay(&key(&sf)))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn reconcile_storefront(sf: &Storefront, ctx: &Context) -> Result<Action> {
    if sf.meta().deletion_timestamp.is_some() {
        // Children go with it through their owner references.
        ctx.changes
            .forget(&sf.namespace().unwrap_or_default(), &sf.name_any());
        ctx.versions
            .forget(&sf.namespace().unwrap_or_default(), &sf.name_any());
        return Ok(Action::await_change());
    }
    if let Err(problems) = validate(sf) {
        let previous = sf.status.as_ref().and_then(|s| s.observed_generation);
        if previous != sf.metadata.generation {
            ctx.publish(sf, EventType::Warning, "InvalidSpec", problems.clone())
                .await;
        }
        let workloads = observe(&ctx.client, sf).await?;
        let status = status::compute(sf, &workloads, &Outcome::Invalid(problems), &now());
        write_status(&ctx.client, sf, status).await?;
        return Ok(Action::await_change());
    }
    if sf.spec.paused {
        let workloads = observe(&ctx.client, sf).await?;
        let status = status::compute(sf, &workloads, &Outcome::Paused, &now());
        write_status(&ctx.client, sf, status).await?;
        return Ok(Action::await_change());
    }

    let mut changed: Vec<String> = Vec::new();
    let namespace = sf.namespace().ok_or(Error::MissingField("namespace"))?;
    for name in [secret::CREDENTIALS_SUFFIX, secret::JWT_SUFFIX] {
        let object_name = crate::meta::child_name(sf, name);
        let change = create_secret_if_absent(&ctx.client, &namespace, &object_name, || {
            let mut random = OsRandom;
            Ok(match name {
                secret::CREDENTIALS_SUFFIX => secret::credentials(sf, &mut random)?,
                _ => secret::jwt(sf, &mut random)?,
            })
        })
        .await?;
        if change == Change::Created {
            changed.push(format!("created Secret/{object_name}"));
        }
    }

    let desired = children::desired(sf);
    let (workloads, started) = apply_children(ctx, sf, &desired, &mut changed).await?;
    if sf.status.as_ref().and_then(|s| s.observed_generation) != sf.metadata.generation {
        remove_absent(ctx, sf, &desired, &mut changed).await?;
    }

    if !changed.is_empty() {
        let created = changed.iter().filter(|c| c.starts_with("created")).count();
        let reason = if created == changed.len() {
            "Created"
        } else {
            "Updated"
        };
        ctx.publish(sf, EventType::Normal, reason, changed.join(", "))
            .await;
    }

    for component in started {
        let step = ORDER.iter().position(|c| *c == component).unwrap_or(0) + 1;
        ctx.publish_about(
            sf,
            EventType::Normal,
            "Upgrading",
            format!(
                "upgrading {} to {} (step {step} of {})",
                component.name(),
                sf.spec.version,
                ORDER.len()
            ),
            Some(deployment_ref(sf, component)),
        )
        .await;
    }

    let mut status = status::compute(sf, &workloads, &Outcome::Applied, &now());
    publish_rollout_outcome(ctx, sf, &status).await;
    judge_backups(&ctx.client, sf, &mut status).await?;
    let ready = status
        .conditions
        .iter()
        .any(|c| c.type_ == status::READY && c.status == "True");
    let became_ready = ready
        && sf
            .condition(status::READY)
            .is_none_or(|c| c.status != "True");
    write_status(&ctx.client, sf, status).await?;
    if became_ready {
        ctx.publish(
            sf,
            EventType::Normal,
            "Ready",
            "all components are ready".into(),
        )
        .await;
    }
    Ok(Action::requeue(if ready {
        RESYNC_READY
    } else {
        RESYNC_PROGRESSING
    }))
}

fn note<K: Resource<DynamicType = ()>>(obj: &K, change: Change, changed: &mut Vec<String>) {
    let verb = match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Unchanged => return,
    };
    changed.push(format!(
        "{verb} {}/{}",
        K::kind(&()),
        obj.meta().name.as_deref().unwrap_or_default()
    ));
}

/// Applies all objects of one kind concurrently, noting what changed.
async fn apply_all<K>(ctx: &Context, objects: &[K], changed: &mut Vec<String>) -> Result<Vec<K>>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let applied =
        futures::future::try_join_all(objects.iter().map(|o| apply(&ctx.client, o, &ctx.changes)))
            .await?;
    Ok(applied
        .into_iter()
        .map(|(obj, change)| {
            note(&obj, change, changed);
            obj
        })
        .collect())
}

/// The Deployment of a component, as an Event's related object.
fn deployment_ref(sf: &Storefront, component: Component) -> ObjectReference {
    ObjectReference {
        api_version: Some("apps/v1".into()),
        kind: Some("Deployment".into()),
        name: Some(crate::meta::child_name(sf, component.name())),
        namespace: sf.namespace(),
        ..ObjectReference::default()
    }
}

/// A Warning Event when the rollout of the current version fails, a Normal one when it
/// completes; each once, on the transition.
async fn publish_rollout_outcome(ctx: &Context, sf: &Storefront, status: &StorefrontStatus) {
    let Some(now) = &status.rollout else { return };
    let Some(before) = sf.status.as_ref().and_then(|s| s.rollout.as_ref()) else {
        return;
    };
    let same = before.phase == now.phase
        && before.target_version == now.target_version
        && before.component == now.component;
    if same {
        return;
    }
    let component = now
        .component
        .as_deref()
        .and_then(|n| ORDER.iter().copied().find(|c| c.name() == n));
    match now.phase {
        RolloutPhase::Failed => {
            ctx.publish_about(
                sf,
                EventType::Warning,
                "RolloutFailed",
                now.message.clone(),
                component.map(|c| deployment_ref(sf, c)),
            )
            .await;
        }
        // After an upgrade only: a new store's first rollout is announced by `Ready`.
        RolloutPhase::Complete => {
            if let Some(from) = &now.previous_version {
                ctx.publish(
                    sf,
                    EventType::Normal,
                    "RolloutComplete",
                    format!("{} (upgraded from {from})", now.message),
                )
                .await;
            }
        }
        RolloutPhase::Progressing => {}
    }
}

/// Applies the component Deployments. While no version change is under way they go all at
/// once; otherwise one by one in [`ORDER`], each told its version by the [`Planner`] from the
/// apply responses of the ones before it. Returns the stored Deployments and the components moved
/// to the new version.
async fn apply_components(
    ctx: &Context,
    sf: &Storefront,
    desired: &Children,
    changed: &mut Vec<String>,
) -> Result<(Vec<Deployment>, Vec<Component>)> {
    let target = sf.spec.version.as_str();
    if rollout::settled(target, |c| ctx.versions.declared(sf, c)) {
        let applied = apply_all(ctx, &desired.deployments, changed).await?;
        for c in ORDER {
            ctx.versions.record(sf, c, target);
        }
        return Ok((applied, Vec::new()));
    }
    let mut planner = Planner::new(target);
    let mut applied = Vec::with_capacity(ORDER.len());
    for c in ORDER {
        let version = planner.version(c, ctx.versions.declared(sf, c).as_deref());
        let (stored, change) =
            apply(&ctx.client, &deployment_at(sf, c, &version), &ctx.changes).await?;
        note(&stored, change, changed);
        ctx.versions.record(sf, c, &version);
        planner.observe(&version, &Workload::from(&stored));
        applied.push(stored);
    }
    Ok((applied, planner.started().to_vec()))
}

/// Applies every child, stage by stage (configuration, data stores, components, guards and
/// routes), each stage's objects concurrently (component Deployments in upgrade order while a
/// version change rolls out). Returns the workloads' reports read from the apply responses, so
/// status needs no extra reads, and the components an upgrade moved to the new version.
async fn apply_children(
    ctx: &Context,
    sf: &Storefront,
    desired: &Children,
    changed: &mut Vec<String>,
) -> Result<(Vec<Workload>, Vec<Component>)> {
    apply_all(ctx, &desired.config_maps, changed).await?;
    let stores = apply_all(ctx, &desired.stateful_sets, changed).await?;
    apply_all(ctx, &desired.services, changed).await?;
    let (components, started) = apply_components(ctx, sf, desired, changed).await?;
    apply_all(ctx, &desired.hpas, changed).await?;
    apply_all(ctx, &desired.pdbs, changed).await?;
    apply_all(ctx, &desired.network_policies, changed).await?;
    apply_all(ctx, &desired.ingresses, changed).await?;
    apply_all(ctx, &desired.cron_jobs, changed).await?;
    let mut workloads: Vec<Workload> = stores.iter().map(Workload::from).collect();
    workloads.extend(components.iter().map(Workload::from));
    Ok((workloads, started))
}

/// Deletes optional children the spec stopped declaring (run when the generation changed).
async fn remove_absent(
    ctx: &Context,
    sf: &Storefront,
    desired: &Children,
    changed: &mut Vec<String>,
) -> Result<()> {
    let namespace = sf.namespace().ok_or(Error::MissingField("namespace"))?;
    let uid = sf.uid().ok_or(Error::MissingField("uid"))?;
    let client = &ctx.client;
    for (kind, name) in &desired.absent {
        let deleted = match kind {
            ChildKind::ConfigMap => {
                delete_if_owned::<ConfigMap>(client, &namespace, name, &uid).await?
            }
            ChildKind::StatefulSet => {
                delete_if_owned::<StatefulSet>(client, &namespace, name, &uid).await?
            }
            ChildKind::Service => {
                delete_if_owned::<Service>(client, &namespace, name, &uid).await?
            }
            ChildKind::HorizontalPodAutoscaler => {
                delete_if_owned::<HorizontalPodAutoscaler>(client, &namespace, name, &uid).await?
            }
            ChildKind::NetworkPolicy => {
                delete_if_owned::<NetworkPolicy>(client, &namespace, name, &uid).await?
            }
            ChildKind::CronJob => {
                delete_if_owned::<CronJob>(client, &namespace, name, &uid).await?
            }
        };
        if deleted {
            changed.push(format!("deleted {kind:?}/{name}"));
        }
    }
    Ok(())
}

/// Sets `BackupHealthy` and `lastSuccessfulBackup` from the Jobs of the backup CronJobs.
async fn judge_backups(
    client: &Client,
    sf: &Storefront,
    status: &mut StorefrontStatus,
) -> Result<()> {
    use crate::backup_health::{BACKUP_HEALTHY, health, runs};
    use crate::children::backup::{BackedUp, NAME};
    status.conditions.retain(|c| c.type_ != BACKUP_HEALTHY);
    let Some(backups) = &sf.spec.backups else {
        status.last_successful_backup = None;
        return Ok(());
    };
    let namespace = sf.namespace().ok_or(Error::MissingField("namespace"))?;
    let selector = format!(
        "{}={NAME},{LABEL_INSTANCE}={}",
        crate::meta::LABEL_NAME,
        sf.name_any()
    );
    let jobs = Api::<Job>::namespaced(client.clone(), &namespace)
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    // The schedule was validated before anything was applied.
    let period =
        crate::schedule::longest_gap(&backups.schedule).unwrap_or(Duration::from_secs(86_400));
    // Backups are due from when the Storefront exists (at the latest, when they were declared).
    let since = sf
        .metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| chrono::DateTime::<chrono::Utc>::from_timestamp(t.0.as_second(), 0));
    let databases: Vec<&str> = BackedUp::ALL.iter().map(|d| d.name()).collect();
    let judged = health(&databases, &runs(&jobs), period, since, chrono::Utc::now());
    let previous = sf.status.as_ref();
    let mut condition = status::condition(
        previous,
        BACKUP_HEALTHY,
        judged.status == "True",
        judged.reason,
        judged.message,
        sf.metadata.generation,
        &now(),
    );
    if judged.status == "Unknown" {
        condition.status = "Unknown".into();
        condition.last_transition_time = previous
            .and_then(|p| p.conditions.iter().find(|c| c.type_ == BACKUP_HEALTHY))
            .filter(|c| c.status == "Unknown")
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(now);
    }
    status.conditions.push(condition);
    status.last_successful_backup = judged
        .last_successful
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Ok(())
}

/// Reads the workloads of a Storefront without changing anything (paused, invalid, failed).
async fn observe(client: &Client, sf: &Storefront) -> Result<Vec<Workload>> {
    let namespace = sf.namespace().ok_or(Error::MissingField("namespace"))?;
    let selector = format!("{MANAGED_SELECTOR},{LABEL_INSTANCE}={}", sf.name_any());
    let params = ListParams::default().labels(&selector);
    let owned = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        meta.owner_references
            .iter()
            .flatten()
            .any(|o| Some(&o.uid) == sf.metadata.uid.as_ref())
    };
    let mut workloads: Vec<Workload> = Api::<StatefulSet>::namespaced(client.clone(), &namespace)
        .list(&params)
        .await?
        .items
        .iter()
        .filter(|s| owned(&s.metadata))
        .map(Workload::from)
        .collect();
    workloads.extend(
        Api::<Deployment>::namespaced(client.clone(), &namespace)
            .list(&params)
            .await?
            .items
            .iter()
            .filter(|d| owned(&d.metadata))
            .map(Workload::from),
    );
    Ok(workloads)
}

/// Server-side applies `status` on the status subresource, skipping the call when unchanged.
async fn write_status(client: &Client, sf: &Storefront, status: StorefrontStatus) -> Result<()> {
    if sf.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let namespace = sf.namespace().ok_or(Error::MissingField("namespace"))?;
    let api: Api<Storefront> = Api::namespaced(client.clone(), &namespace);
    let patch = json!({
        "apiVersion": Storefront::api_version(&()),
        "kind": Storefront::kind(&()),
        "status": status,
    });
    api.patch_status(
        &sf.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}
