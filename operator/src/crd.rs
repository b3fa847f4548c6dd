//! The `Storefront` custom resource (`storefront.dev/v1alpha1`): its spec, status and schema rules.
//!
//! Validation lives in the schema so the apiserver rejects bad specs at admission time: bounds and
//! patterns from schemars attributes, cross-field rules as CEL (`x-kubernetes-validations`).

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Kubernetes resource quantity such as `250m`, `1`, `512Mi` or `10Gi`.
const QUANTITY_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$";
/// A DNS-1123 host name, optionally with a leading wildcard label.
const HOST_PATTERN: &str =
    r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A container image tag.
const TAG_PATTERN: &str = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$";
/// A DNS-1123 object name (Secrets, StorageClasses, IngressClasses).
const NAME_PATTERN: &str = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";
/// A name prefix valid in PostgreSQL and MongoDB database names, Redis keys and index names.
const PREFIX_PATTERN: &str = r"^[a-z][a-z0-9_]{0,29}$";
/// `key=value` pairs joined by `&`.
const OPTIONS_PATTERN: &str =
    r"^[A-Za-z0-9_]+=[A-Za-z0-9_.:,-]+(&[A-Za-z0-9_]+=[A-Za-z0-9_.:,-]+)*$";
/// `s3://<bucket>[/<prefix>]`.
const S3_URL_PATTERN: &str = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?$";

/// Desired state of one store.
// Each `printcolumn(...)` repeats `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "storefront.dev",
    version = "v1alpha1",
    kind = "Storefront",
    plural = "storefronts",
    shortname = "sf",
    namespaced,
    doc = "A store: its services, databases, routes and scaling, kept as declared by the Storefront operator.",
    status = "StorefrontStatus",
    derive = "PartialEq",
    validation = kube::core::Rule::new("self.metadata.name.size() <= 40").message("metadata.name must be at most 40 characters: children are named <name>-<component>"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(name = "Version", type_ = "string", json_path = ".spec.version"),
    printcolumn(
        name = "Rollout",
        type_ = "string",
        json_path = ".status.rollout.phase"
    ),
    printcolumn(
        name = "Step",
        type_ = "string",
        json_path = ".status.rollout.component",
        priority = 1
    ),
    printcolumn(name = "URL", type_ = "string", json_path = ".status.url"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct StorefrontSpec {
    /// Release of the services to run: the image tag of every component.
    #[schemars(regex(pattern = TAG_PATTERN))]
    pub version: String,
    /// Host name the store is served on; the Ingress routes it.
    #[schemars(length(min = 1, max = 253), regex(pattern = HOST_PATTERN))]
    pub host: String,
    /// Stop reconciling: children are left exactly as they are until this is false again.
    #[serde(default)]
    pub paused: bool,
    /// Where the component images come from.
    #[serde(default)]
    pub image: ImageSpec,
    /// How the store is exposed.
    #[serde(default)]
    pub ingress: IngressSpec,
    /// Per-component replicas, resources and autoscaling.
    #[serde(default)]
    pub components: Components,
    /// The four data stores, each managed by the operator or external.
    #[serde(default)]
    pub databases: Databases,
    /// Backup policy of the managed databases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups: Option<BackupSpec>,
    /// How a change of `version` rolls out across the components.
    #[serde(default)]
    pub rollout: RolloutSpec,
    /// Outgoing mail (email verification and password-reset links). Without it the users service
    /// sends no mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailSpec>,
    /// Where uploaded product images are kept: a bucket every catalog replica shares. Without it
    /// the catalog has nowhere to write them (its root file system is read-only) and answers an
    /// upload with 503.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_images: Option<ProductImagesSpec>,
}

/// Object storage of the catalog's product images.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProductImagesSpec {
    pub s3: S3Target,
}

/// How the store sends mail.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MailSpec {
    /// A Secret whose key `url` is the SMTP server, e.g. `smtps://user:password@smtp.example.com`
    /// (`smtp://…` for STARTTLS-less relays inside the cluster).
    pub smtp_secret_ref: SecretRef,
    /// The sender, e.g. `Shop <no-reply@shop.example.com>`; the service's default otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 320))]
    pub from: Option<String>,
}

/// Upgrade policy: a new `version` reaches one component at a time (users → catalog → search →
/// cart → store-ui), each only once the previous one runs the new version on all its replicas.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    /// Seconds a component may take to make progress on its new version before the rollout is
    /// declared failed (the Deployments' `progressDeadlineSeconds`). Default 600.
    #[serde(default = "default_progress_deadline")]
    #[schemars(range(min = 10, max = 86400))]
    pub progress_deadline_seconds: i32,
}

impl Default for RolloutSpec {
    fn default() -> Self {
        RolloutSpec {
            progress_deadline_seconds: default_progress_deadline(),
        }
    }
}

fn default_progress_deadline() -> i32 {
    600
}

/// Container image source.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// Registry and path prefix; images are `<registry>/<component>:<version>`.
    /// Default `ghcr.io/storefront`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub registry: Option<String>,
    /// Image pull policy of every component container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
}

/// Kubernetes image pull policy.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// Ingress settings.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// IngressClass to use; the cluster default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = NAME_PATTERN))]
    pub class_name: Option<String>,
    /// Secret with the TLS certificate for `host`; plain HTTP when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = NAME_PATTERN))]
    pub tls_secret_name: Option<String>,
}

/// The five components of a store.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Components {
    #[serde(default)]
    pub catalog: ComponentSpec,
    #[serde(default)]
    pub cart: ComponentSpec,
    #[serde(default)]
    pub users: ComponentSpec,
    #[serde(default)]
    pub search: ComponentSpec,
    #[serde(default)]
    pub store_ui: ComponentSpec,
}

/// Scaling and resources of one component.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!(has(self.replicas) && has(self.autoscaling))").message("set either replicas or autoscaling, not both"))]
pub struct ComponentSpec {
    /// Fixed number of pods (default 1). Ignored when `autoscaling` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub replicas: Option<i32>,
    /// CPU and memory requests and limits of the component's container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Horizontal autoscaling on CPU utilisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
}

/// Requests and limits, as Kubernetes quantities.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceAmounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceAmounts>,
}

/// CPU and memory amounts.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAmounts {
    /// CPU, e.g. `250m` or `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub cpu: Option<String>,
    /// Memory, e.g. `256Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub memory: Option<String>,
}

/// Autoscaling bounds of one component.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!has(self.minReplicas) || self.minReplicas <= self.maxReplicas").message("autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas"))]
pub struct Autoscaling {
    /// Lower bound of replicas. Default 2 for the API components (one pod may be drained or
    /// restarted while another serves), 1 for the store UI; never above `maxReplicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub min_replicas: Option<i32>,
    /// Upper bound of replicas.
    #[schemars(range(min = 1, max = 100))]
    pub max_replicas: i32,
    /// Target average CPU utilisation, in percent of the CPU request.
    #[serde(default = "default_target_cpu")]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_utilization: i32,
    /// Target average HTTP requests per second per pod, in addition to CPU: the HPA's Pods
    /// metric `http_requests_per_second`, which the cluster's custom metrics API (e.g.
    /// prometheus-adapter over the services' `http_requests_total`) must serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100000))]
    pub target_requests_per_second: Option<i32>,
}

fn default_target_cpu() -> i32 {
    80
}

/// The store's data stores.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Databases {
    /// PostgreSQL: databases `users`, `orders` and `catalog`.
    #[serde(default)]
    pub postgres: DatabaseSpec,
    /// Redis: carts and event streams.
    #[serde(default)]
    pub redis: DatabaseSpec,
    /// MongoDB: product documents.
    #[serde(default)]
    pub mongodb: DatabaseSpec,
    /// OpenSearch (or Elasticsearch): the search index.
    #[serde(default)]
    pub opensearch: DatabaseSpec,
}

/// One data store: run by the operator (`managed`) or provided (`external`).
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("has(self.managed) != has(self.external)").message("set exactly one of managed or external"))]
pub struct DatabaseSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedDatabase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalDatabase>,
}

impl Default for DatabaseSpec {
    fn default() -> Self {
        DatabaseSpec {
            managed: Some(ManagedDatabase::default()),
            external: None,
        }
    }
}

/// A database the operator runs as a StatefulSet with a PersistentVolumeClaim.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedDatabase {
    /// Volume size (default `1Gi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub storage: Option<String>,
    /// StorageClass of the volume; the cluster default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = NAME_PATTERN))]
    pub storage_class_name: Option<String>,
    /// Image tag of the database server; a tested default per engine when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TAG_PATTERN))]
    pub version: Option<String>,
}

/// A database outside the cluster (RDS, ElastiCache, Atlas, OpenSearch Service...).
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDatabase {
    /// Secret in the Storefront's namespace with the keys `host`, `port`, `username` and
    /// `password` (URL-safe).
    pub secret_ref: SecretRef,
    /// Connect over TLS (default true). Turn off only for a server on a trusted network, such
    /// as the databases of a development machine.
    #[serde(default = "default_true")]
    pub tls: bool,
    /// Prefix of everything the store keeps on a server it may share with other stores:
    /// PostgreSQL database names (`<prefix>users`, `<prefix>orders`, `<prefix>catalog`), the
    /// MongoDB database (`<prefix>catalog`), Redis keys (`<prefix>cart:`) and the search index
    /// alias (`<prefix>products`). None by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = PREFIX_PATTERN))]
    pub prefix: Option<String>,
    /// Extra connection-string options appended to the URL, e.g. `authMechanism=PLAIN` or
    /// `replicaSet=rs0` for MongoDB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500), regex(pattern = OPTIONS_PATTERN))]
    pub options: Option<String>,
}

fn default_true() -> bool {
    true
}

/// Reference to a Secret in the same namespace.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    #[schemars(length(min = 1, max = 253), regex(pattern = NAME_PATTERN))]
    pub name: String,
}

/// Backup policy: one CronJob per database (users and orders PostgreSQL, the catalog's ledger and
/// documents, Redis) runs the `backup` image of the store's version on `schedule`.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// Cron schedule (five fields, UTC, or `@hourly`, `@daily`, `@weekly`, `@monthly`), e.g. `0 3 * * *`.
    #[schemars(length(min = 5, max = 100))]
    pub schedule: String,
    /// Number of backups of each database to keep.
    #[serde(default = "default_retention")]
    #[schemars(range(min = 1, max = 365))]
    pub retention: i32,
    /// Where backups go.
    pub target: BackupTarget,
}

/// An S3-compatible bucket or a PersistentVolumeClaim.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("has(self.s3) != has(self.pvc)").message("set exactly one of s3 or pvc"))]
pub struct BackupTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<PvcTarget>,
}

/// A bucket of an S3-compatible object store.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct S3Target {
    /// `s3://<bucket>` or `s3://<bucket>/<prefix>`.
    #[schemars(length(min = 6, max = 1000), regex(pattern = S3_URL_PATTERN))]
    pub url: String,
    /// The object store's address; AWS S3 of `region` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1000))]
    pub endpoint: Option<String>,
    /// SigV4 signing region (default `us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need.
    #[serde(default)]
    pub path_style: bool,
    /// Secret with the keys `accessKeyId` and `secretAccessKey`.
    pub credentials_secret_ref: SecretRef,
}

/// A PersistentVolumeClaim in the Storefront's namespace, mounted by every backup Job.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PvcTarget {
    #[schemars(length(min = 1, max = 253), regex(pattern = NAME_PATTERN))]
    pub claim_name: String,
}

fn default_retention() -> i32 {
    7
}

/// Observed state, written by the operator only.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StorefrontStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Progressing` and `Degraded`, following the Kubernetes condition conventions.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Ready and desired replicas of each component and managed database, by name.
    #[serde(default)]
    pub components: BTreeMap<String, ComponentStatus>,
    /// Where the store is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Progress of the latest change of `spec.version` across the components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutStatus>,
    /// When the oldest of the databases' latest successful backups finished (RFC 3339): every
    /// database has a backup at least this recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_backup: Option<String>,
}

/// Replica counts of one workload.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    pub ready_replicas: i32,
    pub desired_replicas: i32,
    /// The release the component's Deployment declares (application components only). During a
    /// rollout, components not reached yet keep the previous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Where a version change stands.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    /// The version being rolled out (`spec.version`).
    pub target_version: String,
    /// The version the rollout replaces; absent for a store that never ran another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// The component being upgraded, or the one that failed; absent when complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    pub phase: RolloutPhase,
    /// Components running the target version, of all.
    pub updated_components: i32,
    pub total_components: i32,
    /// What the rollout waits for, or why it stopped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Phase of a rollout.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolloutPhase {
    /// A component is moving to the target version.
    Progressing,
    /// Every component runs the target version on all its replicas.
    Complete,
    /// A component did not become available within the progress deadline; the rollout stopped.
    Failed,
}

impl RolloutPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutPhase::Progressing => "Progressing",
            RolloutPhase::Complete => "Complete",
            RolloutPhase::Failed => "Failed",
        }
    }
}

/// A status condition (the shape of `metav1.Condition`).
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// CamelCase reason for the last transition.
    pub reason: String,
    /// Human-readable details.
    pub message: String,
    /// RFC 3339 time of the last status change.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl StorefrontSpec {
    /// The URL the store is served on.
    pub fn url(&self) -> String {
        let scheme = if self.ingress.tls_secret_name.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.host)
    }
}

impl Storefront {
    /// The condition of the given type, if the status has one.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
    }
}
