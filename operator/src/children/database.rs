//! Managed data stores: one StatefulSet each, with a PersistentVolumeClaim template, plus the
//! PostgreSQL init script that creates the services' databases.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe, ResourceRequirements, SeccompProfile, SecurityContext, TCPSocketAction, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::children::env::from_secret;
use crate::children::secret::{CREDENTIALS_SUFFIX, password_key};
use crate::component::{Database, POSTGRES_DATABASES};
use crate::crd::{ManagedDatabase, Storefront};
use crate::meta::{child_name, label_selector, labels, object_meta};

const DEFAULT_STORAGE: &str = "1Gi";
const INIT_SUFFIX: &str = "postgres-init";

fn value(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

/// The managed settings of a store, or `None` when it is external.
pub fn managed(sf: &Storefront, db: Database) -> Option<&ManagedDatabase> {
    db.spec(&sf.spec).managed.as_ref()
}

/// UID the official image of each engine runs its server as.
fn run_as(db: Database) -> i64 {
    match db {
        Database::Opensearch => 1000,
        _ => 999,
    }
}

fn env(sf: &Storefront, db: Database) -> Vec<EnvVar> {
    let password = || {
        from_secret(
            "SF_PASSWORD",
            child_name(sf, CREDENTIALS_SUFFIX),
            &password_key(db),
        )
    };
    match db {
        Database::Postgres => vec![
            password(),
            value("POSTGRES_USER", db.managed_username()),
            value("POSTGRES_PASSWORD", "$(SF_PASSWORD)"),
            value("PGDATA", "/var/lib/postgresql/data/pgdata"),
        ],
        Database::Redis => vec![password()],
        Database::Mongodb => vec![
            password(),
            value("MONGO_INITDB_ROOT_USERNAME", db.managed_username()),
            value("MONGO_INITDB_ROOT_PASSWORD", "$(SF_PASSWORD)"),
        ],
        Database::Opensearch => vec![
            value("discovery.type", "single-node"),
            value("DISABLE_SECURITY_PLUGIN", "true"),
            value("DISABLE_INSTALL_DEMO_CONFIG", "true"),
            value("OPENSEARCH_JAVA_OPTS", "-Xms512m -Xmx512m"),
        ],
    }
}

fn args(db: Database) -> Option<Vec<String>> {
    match db {
        Database::Redis => Some(
            [
                "redis-server",
                "--requirepass",
                "$(SF_PASSWORD)",
                "--appendonly",
                "yes",
            ]
            .map(String::from)
            .to_vec(),
        ),
        _ => None,
    }
}

fn resources(db: Database) -> ResourceRequirements {
    let (cpu, memory) = match db {
        Database::Opensearch => ("250m", "1Gi"),
        Database::Redis => ("50m", "128Mi"),
        _ => ("100m", "256Mi"),
    };
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.into())),
            ("memory".to_string(), Quantity(memory.into())),
        ])),
        limits: Some(BTreeMap::from([(
            "memory".to_string(),
            Quantity(memory.into()),
        )])),
        ..ResourceRequirements::default()
    }
}

fn volumes(sf: &Storefront, db: Database) -> (Vec<VolumeMount>, Vec<Volume>) {
    let mut mounts = vec![VolumeMount {
        name: "data".into(),
        mount_path: db.data_path().into(),
        ..VolumeMount::default()
    }];
    let mut volumes = Vec::new();
    if db == Database::Postgres {
        mounts.push(VolumeMount {
            name: "init".into(),
            mount_path: "/docker-entrypoint-initdb.d".into(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
        volumes.push(Volume {
            name: "init".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: child_name(sf, INIT_SUFFIX),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
    (mounts, volumes)
}

/// The StatefulSet of a managed store; `None` for an external one.
pub fn stateful_set(sf: &Storefront, db: Database) -> Option<StatefulSet> {
    let settings = managed(sf, db)?;
    let name = db.name();
    let version = settings.version.as_deref().unwrap_or(db.default_version());
    let (volume_mounts, volumes) = volumes(sf, db);
    let container = Container {
        name: name.into(),
        image: Some(format!("{}:{version}", db.image_repository())),
        args: args(db),
        env: Some(env(sf, db)),
        ports: Some(vec![ContainerPort {
            name: Some(name.into()),
            container_port: db.port(),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        readiness_probe: Some(Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::String(name.into()),
                host: None,
            }),
            period_seconds: Some(5),
            ..Probe::default()
        }),
        resources: Some(resources(db)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(volume_mounts),
        ..Container::default()
    };
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("data".into()),
            labels: Some(labels(sf, name, "database")),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: settings.storage_class_name.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(
                        settings
                            .storage
                            .clone()
                            .unwrap_or_else(|| DEFAULT_STORAGE.into()),
                    ),
                )])),
                limits: None,
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        status: None,
    };
    let uid = run_as(db);
    Some(StatefulSet {
        metadata: object_meta(sf, child_name(sf, name), name, "database"),
        spec: StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(child_name(sf, name)),
            selector: label_selector(sf, name),
            // Volumes go with the store: a re-created Storefront gets new credentials, which an
            // old data directory would not accept.
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Delete".into()),
                    when_scaled: Some("Retain".into()),
                },
            ),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(sf, name, "database")),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(uid),
                        run_as_group: Some(uid),
                        fs_group: Some(uid),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            localhost_profile: None,
                        }),
                        ..PodSecurityContext::default()
                    }),
                    volumes: (!volumes.is_empty()).then_some(volumes),
                    ..PodSpec::default()
                }),
            },
            volume_claim_templates: Some(vec![claim]),
            ..StatefulSetSpec::default()
        },
        status: None,
    })
}

/// Creates the services' databases on the first start of a managed PostgreSQL.
pub fn postgres_init(sf: &Storefront) -> Option<ConfigMap> {
    managed(sf, Database::Postgres)?;
    let sql: String = POSTGRES_DATABASES
        .iter()
        .map(|db| format!("CREATE DATABASE {db};\n"))
        .collect();
    Some(ConfigMap {
        metadata: object_meta(sf, child_name(sf, INIT_SUFFIX), "postgres", "database"),
        data: Some(BTreeMap::from([("create-databases.sql".to_string(), sql)])),
        ..ConfigMap::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    #[test]
    fn managed_postgres_has_a_volume_claim_and_creates_the_service_databases() {
        let sf = minimal();
        let sts = stateful_set(&sf, Database::Postgres).expect("managed");
        let spec = sts.spec;
        assert_eq!(spec.service_name.as_deref(), Some("shop-postgres"));
        let claim = &spec.volume_claim_templates.expect("claims")[0];
        let storage = &claim
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .expect("requests")["storage"];
        assert_eq!(storage, &Quantity("1Gi".into()));
        let container = &spec.template.spec.expect("pod").containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some("docker.io/library/postgres:17.6")
        );
        let init = postgres_init(&sf).and_then(|c| c.data).expect("init");
        let sql = &init["create-databases.sql"];
        for db in ["users", "orders", "catalog"] {
            assert!(sql.contains(&format!("CREATE DATABASE {db};")), "{sql}");
        }
    }

    #[test]
    fn managed_settings_pick_size_class_and_version() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ndatabases:\n  redis:\n    managed: {storage: 5Gi, storageClassName: fast, version: \"7.2\"}\n",
        );
        let spec = stateful_set(&sf, Database::Redis).expect("managed").spec;
        let claim = spec.volume_claim_templates.expect("claims")[0]
            .spec
            .clone()
            .expect("claim spec");
        assert_eq!(claim.storage_class_name.as_deref(), Some("fast"));
        let container = &spec.template.spec.expect("pod").containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some("docker.io/library/redis:7.2")
        );
        assert!(
            container
                .args
                .as_ref()
                .is_some_and(|a| a.contains(&"$(SF_PASSWORD)".to_string()))
        );
    }

    #[test]
    fn external_store_has_no_workload() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ndatabases:\n  postgres:\n    external:\n      secretRef: {name: rds}\n",
        );
        assert!(stateful_set(&sf, Database::Postgres).is_none());
        assert!(postgres_init(&sf).is_none());
        assert!(stateful_set(&sf, Database::Mongodb).is_some());
    }
}
