//! Backup CronJobs: one per database of the store, each running `storefront-backup backup <kind>`
//! from the `backup` image of the store's version, with the database's connection from the same
//! `SF_*` variables the components get and the target (bucket or volume) from `spec.backups`.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaimVolumeSource, PodSpec,
    PodTemplateSpec, ResourceRequirements, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::children::deployment::{DEFAULT_REGISTRY, container_security_context};
use crate::children::env::{
    connection, mongodb_database, mongodb_url, postgres_url, redis_url, s3_env, value,
};
use crate::component::Database;
use crate::crd::{BackupSpec, Storefront};
use crate::meta::{child_name, labels};

/// `app.kubernetes.io/name` of backup Jobs and pods (NetworkPolicies let them reach the stores).
pub const NAME: &str = "backup";
/// Which database a backup CronJob, and the Jobs it creates, is for.
pub const LABEL_DATABASE: &str = "storefront.dev/backup-database";
/// Where a PVC target is mounted in the backup pod.
const MOUNT: &str = "/backups";

/// The databases of a store that are backed up (search is rebuilt from the catalog).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BackedUp {
    Users,
    Orders,
    CatalogLedger,
    CatalogDocuments,
    Redis,
}

impl BackedUp {
    pub const ALL: [BackedUp; 5] = [
        BackedUp::Users,
        BackedUp::Orders,
        BackedUp::CatalogLedger,
        BackedUp::CatalogDocuments,
        BackedUp::Redis,
    ];

    /// The database's name in backup names and labels.
    pub fn name(self) -> &'static str {
        match self {
            BackedUp::Users => "users",
            BackedUp::Orders => "orders",
            BackedUp::CatalogLedger => "catalog-ledger",
            BackedUp::CatalogDocuments => "catalog-documents",
            BackedUp::Redis => "redis",
        }
    }

    /// `storefront-backup`'s kind argument.
    pub fn kind(self) -> &'static str {
        match self {
            BackedUp::Users | BackedUp::Orders | BackedUp::CatalogLedger => "postgres",
            BackedUp::CatalogDocuments => "documents",
            BackedUp::Redis => "redis",
        }
    }

    pub fn store(self) -> Database {
        match self {
            BackedUp::Users | BackedUp::Orders | BackedUp::CatalogLedger => Database::Postgres,
            BackedUp::CatalogDocuments => Database::Mongodb,
            BackedUp::Redis => Database::Redis,
        }
    }

    /// Name of the CronJob: `<storefront>-backup-<database>`.
    pub fn object_name(self, sf: &Storefront) -> String {
        child_name(sf, &format!("{NAME}-{}", self.name()))
    }
}

/// `<registry>/backup:<version>`.
pub fn image(sf: &Storefront) -> String {
    let registry = sf
        .spec
        .image
        .registry
        .as_deref()
        .unwrap_or(DEFAULT_REGISTRY)
        .trim_end_matches('/');
    format!("{registry}/{NAME}:{}", sf.spec.version)
}

/// The backup container's environment: the database's connection and the target.
pub fn env(sf: &Storefront, backups: &BackupSpec, db: BackedUp) -> Vec<EnvVar> {
    let mut env = connection(sf, db.store());
    env.push(value(
        "BACKUP_STORE",
        sf.metadata.name.clone().unwrap_or_default(),
    ));
    env.push(value("BACKUP_DATABASE", db.name()));
    env.push(value("BACKUP_RETENTION", backups.retention.to_string()));
    match db {
        BackedUp::Users => env.push(value("BACKUP_POSTGRES_URL", postgres_url(sf, "users"))),
        BackedUp::Orders => env.push(value("BACKUP_POSTGRES_URL", postgres_url(sf, "orders"))),
        BackedUp::CatalogLedger => {
            env.push(value("BACKUP_POSTGRES_URL", postgres_url(sf, "catalog")))
        }
        BackedUp::CatalogDocuments => {
            env.push(value("BACKUP_MONGODB_URL", mongodb_url(sf)));
            env.push(value("BACKUP_MONGODB_DATABASE", mongodb_database(sf)));
        }
        BackedUp::Redis => env.push(value("BACKUP_REDIS_URL", redis_url(sf))),
    }
    if let Some(s3) = &backups.target.s3 {
        env.extend(s3_env("BACKUP_S3", s3));
    } else {
        env.push(value("BACKUP_DIR", MOUNT));
    }
    env
}

/// A backup streams its dump in parts (two of 8 MiB in flight at most), so its memory does not
/// grow with the database; the limit leaves room for `pg_dump` itself.
fn resources() -> ResourceRequirements {
    let amounts = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(name, amount)| (name.to_string(), Quantity(amount.to_string())))
            .collect::<BTreeMap<_, _>>()
    };
    ResourceRequirements {
        requests: Some(amounts(&[("cpu", "100m"), ("memory", "64Mi")])),
        limits: Some(amounts(&[("memory", "512Mi")])),
        ..ResourceRequirements::default()
    }
}

/// The CronJobs `spec.backups` asks for; none without it.
pub fn cron_jobs(sf: &Storefront) -> Vec<CronJob> {
    let Some(backups) = &sf.spec.backups else {
        return Vec::new();
    };
    BackedUp::ALL
        .iter()
        .map(|&db| cron_job(sf, backups, db))
        .collect()
}

fn cron_job(sf: &Storefront, backups: &BackupSpec, db: BackedUp) -> CronJob {
    let mut job_labels = labels(sf, NAME, "backup");
    job_labels.insert(LABEL_DATABASE.into(), db.name().into());
    let mut mounts = vec![VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..VolumeMount::default()
    }];
    let mut volumes = vec![Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }];
    if let Some(pvc) = &backups.target.pvc {
        mounts.push(VolumeMount {
            name: "backups".into(),
            mount_path: MOUNT.into(),
            ..VolumeMount::default()
        });
        volumes.push(Volume {
            name: "backups".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: pvc.claim_name.clone(),
                read_only: None,
            }),
            ..Volume::default()
        });
    }
    let container = Container {
        name: NAME.into(),
        image: Some(image(sf)),
        image_pull_policy: sf.spec.image.pull_policy.map(|p| p.as_str().to_string()),
        args: Some(vec!["backup".into(), db.kind().into()]),
        env: Some(env(sf, backups, db)),
        security_context: Some(container_security_context()),
        volume_mounts: Some(mounts),
        resources: Some(resources()),
        ..Container::default()
    };
    let mut metadata = crate::meta::object_meta(sf, db.object_name(sf), NAME, "backup");
    if let Some(labels) = metadata.labels.as_mut() {
        labels.insert(LABEL_DATABASE.into(), db.name().into());
    }
    CronJob {
        metadata,
        spec: CronJobSpec {
            schedule: backups.schedule.clone(),
            time_zone: Some("Etc/UTC".into()),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            starting_deadline_seconds: Some(3600),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(job_labels.clone()),
                    ..ObjectMeta::default()
                }),
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    active_deadline_seconds: Some(6 * 3600),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(job_labels),
                            ..ObjectMeta::default()
                        }),
                        spec: Some(PodSpec {
                            containers: vec![container],
                            restart_policy: Some("Never".into()),
                            automount_service_account_token: Some(false),
                            enable_service_links: Some(false),
                            volumes: Some(volumes),
                            ..PodSpec::default()
                        }),
                    },
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        },
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    const S3: &str = "version: \"1.4.0\"\nhost: a.example\nbackups:\n  schedule: \"0 3 * * *\"\n  retention: 5\n  target:\n    s3:\n      url: s3://shop-backups/eu/prod\n      endpoint: http://minio:9000\n      pathStyle: true\n      credentialsSecretRef: {name: backup-keys}\n";

    fn env_value<'a>(env: &'a [EnvVar], name: &str) -> Option<&'a str> {
        env.iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.as_deref())
    }

    fn container(cj: &CronJob) -> &Container {
        &cj.spec
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0]
    }

    #[test]
    fn every_backup_job_has_bounded_memory() {
        for cj in cron_jobs(&storefront(S3)) {
            let resources = container(&cj).resources.as_ref().expect("resources");
            let limits = resources.limits.as_ref().expect("limits");
            assert_eq!(limits["memory"], Quantity("512Mi".into()));
            let requests = resources.requests.as_ref().expect("requests");
            assert!(requests.contains_key("cpu") && requests.contains_key("memory"));
        }
    }

    #[test]
    fn no_backups_no_cron_jobs() {
        assert!(cron_jobs(&minimal()).is_empty());
    }

    #[test]
    fn one_forbid_concurrency_cron_job_per_database_owned_by_the_storefront() {
        let sf = storefront(S3);
        let jobs = cron_jobs(&sf);
        let names: Vec<_> = jobs
            .iter()
            .map(|j| j.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "shop-backup-users",
                "shop-backup-orders",
                "shop-backup-catalog-ledger",
                "shop-backup-catalog-documents",
                "shop-backup-redis"
            ]
        );
        for job in &jobs {
            let spec = &job.spec;
            assert_eq!(spec.schedule, "0 3 * * *");
            assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
            assert_eq!(spec.successful_jobs_history_limit, Some(3));
            assert_eq!(spec.failed_jobs_history_limit, Some(3));
            assert_eq!(
                job.metadata.owner_references.as_ref().unwrap()[0].kind,
                "Storefront"
            );
            let c = container(job);
            assert_eq!(c.image.as_deref(), Some("ghcr.io/storefront/backup:1.4.0"));
            let template_labels = spec
                .job_template
                .metadata
                .as_ref()
                .unwrap()
                .labels
                .as_ref()
                .unwrap();
            assert_eq!(template_labels["app.kubernetes.io/name"], "backup");
            assert_eq!(template_labels["app.kubernetes.io/instance"], "shop");
        }
        assert_eq!(
            container(&jobs[3]).args.as_ref().unwrap(),
            &["backup", "documents"]
        );
        assert_eq!(
            container(&jobs[4]).args.as_ref().unwrap(),
            &["backup", "redis"]
        );
    }

    #[test]
    fn each_job_gets_its_database_url_and_the_bucket_settings() {
        let sf = storefront(S3);
        let jobs = cron_jobs(&sf);
        let ledger = container(&jobs[2]).env.as_ref().unwrap();
        assert_eq!(
            env_value(ledger, "BACKUP_POSTGRES_URL"),
            Some(
                "postgres://$(SF_POSTGRES_USERNAME):$(SF_POSTGRES_PASSWORD)@$(SF_POSTGRES_HOST):$(SF_POSTGRES_PORT)/catalog"
            )
        );
        assert_eq!(env_value(ledger, "BACKUP_DATABASE"), Some("catalog-ledger"));
        assert_eq!(env_value(ledger, "BACKUP_STORE"), Some("shop"));
        assert_eq!(env_value(ledger, "BACKUP_RETENTION"), Some("5"));
        assert_eq!(env_value(ledger, "BACKUP_S3_BUCKET"), Some("shop-backups"));
        assert_eq!(env_value(ledger, "BACKUP_S3_PREFIX"), Some("eu/prod/"));
        assert_eq!(
            env_value(ledger, "BACKUP_S3_ENDPOINT"),
            Some("http://minio:9000")
        );
        assert_eq!(env_value(ledger, "BACKUP_S3_PATH_STYLE"), Some("true"));
        let password = ledger
            .iter()
            .find(|e| e.name == "SF_POSTGRES_PASSWORD")
            .unwrap();
        assert!(password.value_from.is_some() && password.value.is_none());
        let key = ledger
            .iter()
            .find(|e| e.name == "BACKUP_S3_SECRET_ACCESS_KEY")
            .unwrap();
        let selector = key
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(
            (selector.name.as_str(), selector.key.as_str()),
            ("backup-keys", "secretAccessKey")
        );
        let documents = container(&jobs[3]).env.as_ref().unwrap();
        assert!(
            env_value(documents, "BACKUP_MONGODB_URL")
                .unwrap()
                .starts_with("mongodb://")
        );
        let redis = container(&jobs[4]).env.as_ref().unwrap();
        assert!(
            env_value(redis, "BACKUP_REDIS_URL")
                .unwrap()
                .starts_with("redis://")
        );
    }

    #[test]
    fn a_pvc_target_is_mounted_and_named_by_directory() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\nbackups:\n  schedule: \"@daily\"\n  target:\n    pvc: {claimName: shop-backups}\n",
        );
        let job = &cron_jobs(&sf)[0];
        let c = container(job);
        assert_eq!(
            env_value(c.env.as_ref().unwrap(), "BACKUP_DIR"),
            Some("/backups")
        );
        assert_eq!(
            env_value(c.env.as_ref().unwrap(), "BACKUP_RETENTION"),
            Some("7")
        );
        let pod = job
            .spec
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap();
        let claim = pod
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find_map(|v| v.persistent_volume_claim.as_ref())
            .unwrap();
        assert_eq!(claim.claim_name, "shop-backups");
        assert!(
            c.volume_mounts
                .as_ref()
                .unwrap()
                .iter()
                .any(|m| m.mount_path == "/backups")
        );
    }
}
