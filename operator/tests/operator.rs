//! The operator against a real control plane (etcd, kube-apiserver, controller-manager, scheduler,
//! kwok): one control plane for this test binary, one namespace per test.

mod harness;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::{InProcessOperator, OperatorProcess, client, eventually, minimal_example, namespace};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use storefront_operator::Storefront;

const READY_TIMEOUT: Duration = Duration::from_secs(120);
const INSTANCE: &str = "app.kubernetes.io/instance=shop";

fn is_ready(sf: &Storefront) -> bool {
    sf.condition("Ready").is_some_and(|c| c.status == "True")
        && sf.status.as_ref().and_then(|s| s.observed_generation) == sf.metadata.generation
}

async fn create_minimal(client: &Client, ns: &str) -> Storefront {
    let api: Api<Storefront> = Api::namespaced(client.clone(), ns);
    api.create(&PostParams::default(), &minimal_example())
        .await
        .expect("create the Storefront")
}

async fn wait_ready(client: &Client, ns: &str) -> Storefront {
    let api: Api<Storefront> = Api::namespaced(client.clone(), ns);
    eventually("the Storefront to be Ready", READY_TIMEOUT, || async {
        api.get_opt("shop").await.ok().flatten().filter(is_ready)
    })
    .await
}

async fn list<K>(client: &Client, ns: &str) -> Vec<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(INSTANCE))
        .await
        .expect("list")
        .items
}

fn controlled_by(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    sf: &Storefront,
) -> bool {
    meta.owner_references.iter().flatten().any(|o| {
        Some(&o.uid) == sf.metadata.uid.as_ref()
            && o.controller == Some(true)
            && o.kind == "Storefront"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_example_yields_owned_children_and_becomes_ready() {
    let client = client().await;
    let ns = namespace(&client, "minimal").await;
    let _operator = InProcessOperator::start(&client, &ns, "op-minimal");
    let started = Instant::now();
    create_minimal(&client, &ns).await;
    let sf = wait_ready(&client, &ns).await;
    eprintln!(
        "minimal Storefront Ready after {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let status = sf.status.clone().expect("status");
    assert_eq!(status.url.as_deref(), Some("http://shop.example.com"));
    assert_eq!(status.components.len(), 9, "{:?}", status.components);
    assert!(
        status
            .components
            .values()
            .all(|c| c.ready_replicas == c.desired_replicas)
    );
    for type_ in ["Ready", "Progressing", "Degraded"] {
        let c = sf
            .condition(type_)
            .unwrap_or_else(|| panic!("{type_} condition"));
        assert!(
            !c.reason.is_empty() && !c.message.is_empty() && !c.last_transition_time.is_empty()
        );
        assert_eq!(c.observed_generation, sf.metadata.generation);
    }
    assert_eq!(
        sf.condition("Degraded").map(|c| c.status.as_str()),
        Some("False")
    );

    let mut counts = BTreeMap::new();
    macro_rules! check_kind {
        ($kind:ty, $expected:expr) => {{
            let items = list::<$kind>(&client, &ns).await;
            for item in &items {
                assert!(
                    controlled_by(item.meta(), &sf),
                    "{} {} has no owner reference",
                    stringify!($kind),
                    item.name_any()
                );
                let labels = item.labels();
                for key in ["name", "instance", "component", "part-of", "managed-by"] {
                    assert!(
                        labels.contains_key(&format!("app.kubernetes.io/{key}")),
                        "{} lacks {key}",
                        item.name_any()
                    );
                }
            }
            counts.insert(stringify!($kind), items.len());
            assert_eq!(items.len(), $expected, "{}", stringify!($kind));
        }};
    }
    check_kind!(Secret, 2);
    check_kind!(ConfigMap, 1);
    check_kind!(StatefulSet, 4);
    check_kind!(Service, 9);
    check_kind!(Deployment, 5);
    check_kind!(PodDisruptionBudget, 5);
    check_kind!(NetworkPolicy, 4);
    check_kind!(Ingress, 1);
    eprintln!("children: {counts:?}");

    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("Storefront"))
        .filter_map(|e| e.reason)
        .collect();
    assert!(reasons.iter().any(|r| r == "Created"), "{reasons:?}");
    assert!(reasons.iter().any(|r| r == "Ready"), "{reasons:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_rejects_invalid_specs_with_clear_messages() {
    let client = client().await;
    let ns = namespace(&client, "invalid").await;
    let cases = [
        (
            json!({"version": "1.0.0", "host": "a.example", "components": {"cart": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}}),
            "autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas",
        ),
        (
            json!({"version": "1.0.0", "host": "a.example", "components": {"cart": {"replicas": 2, "autoscaling": {"minReplicas": 1, "maxReplicas": 2}}}}),
            "set either replicas or autoscaling, not both",
        ),
        (
            json!({"version": "1.0.0", "host": "a.example", "components": {"users": {"replicas": 500}}}),
            "spec.components.users.replicas",
        ),
        (
            json!({"version": "1.0.0", "host": "a.example", "databases": {"postgres": {"external": {}}}}),
            "spec.databases.postgres.external.secretRef: Required value",
        ),
        (
            json!({"version": "1.0.0", "host": "a.example", "databases": {"redis": {"managed": {}, "external": {"secretRef": {"name": "x"}}}}}),
            "set exactly one of managed or external",
        ),
        (
            json!({"version": "1.0.0", "host": "Not A Host"}),
            "spec.host",
        ),
        (json!({"host": "a.example"}), "spec.version: Required value"),
        (
            json!({"version": "1.0.0", "host": "a.example"}),
            "metadata.name must be at most 40 characters",
        ),
        (
            json!({"version": "1.0.0", "host": "a.example", "databases": {"mongodb": {"managed": {"storage": "lots"}}}}),
            "spec.databases.mongodb.managed.storage",
        ),
    ];
    let long_name = "x".repeat(41);
    // Raw JSON (through the dynamic API), so specs the typed struct could not even express are sent.
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &ApiResource::erase::<Storefront>(&()));
    for (i, (spec, expected)) in cases.into_iter().enumerate() {
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "storefront.dev/v1alpha1",
            "kind": "Storefront",
            "metadata": {"name": if expected.starts_with("metadata.name") { long_name.clone() } else { format!("bad-{i}") }},
            "spec": spec,
        }))
        .expect("object");
        let err = match api.create(&PostParams::default(), &obj).await {
            Err(kube::Error::Api(e)) => e,
            other => panic!("case {i} was accepted: {other:?}"),
        };
        assert_eq!(err.code, 422, "case {i}: {}", err.message);
        assert!(
            err.message.contains(expected),
            "case {i}: expected {expected:?} in {:?}",
            err.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_or_edited_children_are_restored() {
    let client = client().await;
    let ns = namespace(&client, "drift").await;
    let _operator = InProcessOperator::start(&client, &ns, "op-drift");
    create_minimal(&client, &ns).await;
    wait_ready(&client, &ns).await;

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let old_uid = deployments
        .get("shop-cart")
        .await
        .expect("deployment")
        .uid();
    deployments
        .delete("shop-cart", &DeleteParams::default())
        .await
        .expect("delete");
    eventually(
        "the deleted Deployment to be re-created",
        Duration::from_secs(30),
        || async {
            deployments
                .get_opt("shop-cart")
                .await
                .ok()
                .flatten()
                .filter(|d| d.uid() != old_uid)
        },
    )
    .await;

    // Edits by another field manager of fields the operator owns are taken back.
    let edit = PatchParams::default();
    services
        .patch(
            "shop-catalog",
            &edit,
            &Patch::Merge(
                json!({"spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 9090}]}}),
            ),
        )
        .await
        .expect("edit service");
    deployments
        .patch(
            "shop-users",
            &edit,
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("edit deployment");
    eventually(
        "the edited Service target port to be restored",
        Duration::from_secs(30),
        || async {
            let svc = services.get("shop-catalog").await.ok()?;
            let ports = svc.spec?.ports?;
            (ports.len() == 1
                && ports[0].target_port
                    == Some(
                        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                            "http".into(),
                        ),
                    ))
            .then_some(())
        },
    )
    .await;
    eventually(
        "the edited Deployment replicas to be restored",
        Duration::from_secs(30),
        || async {
            let d = deployments.get("shop-users").await.ok()?;
            (d.spec.replicas == Some(1)).then_some(())
        },
    )
    .await;

    secrets
        .delete("shop-jwt", &DeleteParams::default())
        .await
        .expect("delete secret");
    eventually(
        "the deleted Secret to be re-created",
        Duration::from_secs(30),
        || async { secrets.get_opt("shop-jwt").await.ok().flatten() },
    )
    .await;
    wait_ready(&client, &ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_changes_roll_out_and_advance_observed_generation() {
    let client = client().await;
    let ns = namespace(&client, "rollout").await;
    let _operator = InProcessOperator::start(&client, &ns, "op-rollout");
    create_minimal(&client, &ns).await;
    let before = wait_ready(&client, &ns).await;
    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    let changed = api
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"version": "1.1.0", "components": {"cart": {"replicas": 3}}}}),
            ),
        )
        .await
        .expect("change spec");
    assert!(changed.metadata.generation > before.metadata.generation);
    let after = wait_ready(&client, &ns).await;
    assert_eq!(after.metadata.generation, changed.metadata.generation);
    assert_eq!(
        after.status.as_ref().and_then(|s| s.observed_generation),
        changed.metadata.generation
    );
    let cart = &after.status.as_ref().expect("status").components["cart"];
    assert_eq!((cart.ready_replicas, cart.desired_replicas), (3, 3));
    for d in list::<Deployment>(&client, &ns).await {
        let image = d
            .spec
            .template
            .spec
            .as_ref()
            .and_then(|p| p.containers[0].image.clone())
            .unwrap_or_default();
        assert!(image.ends_with(":1.1.0"), "{} runs {image}", d.name_any());
        assert_eq!(
            d.status.as_ref().and_then(|s| s.updated_replicas),
            d.spec.replicas,
            "{}",
            d.name_any()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_storefront_garbage_collects_its_children() {
    let client = client().await;
    let ns = namespace(&client, "gc").await;
    let operator = InProcessOperator::start(&client, &ns, "op-gc");
    create_minimal(&client, &ns).await;
    wait_ready(&client, &ns).await;
    operator.stop().await;
    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    api.delete("shop", &DeleteParams::default())
        .await
        .expect("delete");
    eventually(
        "every child to be garbage-collected",
        Duration::from_secs(60),
        || async {
            let left = list::<Deployment>(&client, &ns).await.len()
                + list::<StatefulSet>(&client, &ns).await.len()
                + list::<Service>(&client, &ns).await.len()
                + list::<Secret>(&client, &ns).await.len()
                + list::<ConfigMap>(&client, &ns).await.len()
                + list::<NetworkPolicy>(&client, &ns).await.len()
                + list::<PodDisruptionBudget>(&client, &ns).await.len()
                + list::<Ingress>(&client, &ns).await.len();
            (left == 0).then_some(())
        },
    )
    .await;
}

async fn secret_data(
    client: &Client,
    ns: &str,
) -> BTreeMap<String, (String, BTreeMap<String, Vec<u8>>)> {
    let mut out = BTreeMap::new();
    for s in list::<Secret>(client, ns).await {
        let data = s
            .data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        out.insert(s.name_any(), (s.uid().unwrap_or_default(), data));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_secrets_survive_reconciles_and_operator_restarts() {
    let client = client().await;
    let ns = namespace(&client, "secrets").await;
    let first = InProcessOperator::start(&client, &ns, "op-secrets-1");
    create_minimal(&client, &ns).await;
    wait_ready(&client, &ns).await;
    let original = secret_data(&client, &ns).await;
    assert_eq!(original.len(), 2);
    assert!(original.values().all(|(_, data)| !data.is_empty()));

    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    let bump = |replicas: i32| json!({"spec": {"components": {"search": {"replicas": replicas}}}});
    api.patch("shop", &PatchParams::default(), &Patch::Merge(bump(2)))
        .await
        .expect("patch");
    wait_ready(&client, &ns).await;
    assert_eq!(
        secret_data(&client, &ns).await,
        original,
        "changed by a reconcile"
    );

    first.stop().await;
    let _second = InProcessOperator::start(&client, &ns, "op-secrets-2");
    api.patch("shop", &PatchParams::default(), &Patch::Merge(bump(1)))
        .await
        .expect("patch");
    wait_ready(&client, &ns).await;
    assert_eq!(
        secret_data(&client, &ns).await,
        original,
        "changed by an operator restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_storefront_is_left_alone_until_resumed() {
    let client = client().await;
    let ns = namespace(&client, "paused").await;
    let _operator = InProcessOperator::start(&client, &ns, "op-paused");
    create_minimal(&client, &ns).await;
    wait_ready(&client, &ns).await;
    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    api.patch(
        "shop",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": true}})),
    )
    .await
    .expect("pause");
    eventually("the Paused condition", Duration::from_secs(30), || async {
        let sf = api.get("shop").await.ok()?;
        sf.condition("Progressing")
            .filter(|c| c.reason == "Paused")
            .map(|_| ())
    })
    .await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    deployments
        .delete("shop-search", &DeleteParams::default())
        .await
        .expect("delete");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        deployments
            .get_opt("shop-search")
            .await
            .expect("get")
            .is_none(),
        "re-created while paused"
    );
    api.patch(
        "shop",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": false}})),
    )
    .await
    .expect("resume");
    eventually(
        "the Deployment to be re-created after resuming",
        Duration::from_secs(30),
        || async { deployments.get_opt("shop-search").await.ok().flatten() },
    )
    .await;
}

async fn lease_holder(client: &Client, ns: &str) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), ns);
    leases
        .get_opt("storefront-operator")
        .await
        .ok()
        .flatten()?
        .spec?
        .holder_identity
}

fn leader_gauge(metrics: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with("storefront_operator_leader "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_elect_one_leader_and_fail_over_when_it_dies() {
    let client = client().await;
    let ns = namespace(&client, "leader").await;
    let mut a = OperatorProcess::spawn(&ns, "operator-a");
    let mut b = OperatorProcess::spawn(&ns, "operator-b");
    let leader = eventually("a lease holder", Duration::from_secs(30), || async {
        lease_holder(&client, &ns)
            .await
            .filter(|h| h == "operator-a" || h == "operator-b")
    })
    .await;
    assert!(leader == "operator-a" || leader == "operator-b", "{leader}");
    let (leading, standby) = if leader == a.identity {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    eventually(
        "the leader to report leading and the standby not",
        Duration::from_secs(15),
        || async {
            let l = leader_gauge(&leading.metrics().await?)?;
            let s = leader_gauge(&standby.metrics().await?).unwrap_or(0.0);
            (l == 1.0 && s == 0.0).then_some(())
        },
    )
    .await;

    create_minimal(&client, &ns).await;
    wait_ready(&client, &ns).await;

    let killed_at = Instant::now();
    leading.kill();
    let standby_id = standby.identity.clone();
    eventually(
        "the standby to take the lease",
        Duration::from_secs(30),
        || async {
            lease_holder(&client, &ns)
                .await
                .filter(|h| *h == standby_id)
        },
    )
    .await;
    eprintln!("failover took {:.1}s", killed_at.elapsed().as_secs_f64());

    // The new leader reconciles: a spec change is rolled out.
    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    api.patch(
        "shop",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"components": {"users": {"replicas": 2}}}})),
    )
    .await
    .expect("patch");
    let sf = wait_ready(&client, &ns).await;
    assert_eq!(
        sf.status.as_ref().expect("status").components["users"].desired_replicas,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_storefront_backs_off_without_stalling_others() {
    let client = client().await;
    let ns = namespace(&client, "isolation").await;
    // The quota forbids HPAs, so only the autoscaled Storefront fails to apply.
    let quotas: Api<k8s_openapi::api::core::v1::ResourceQuota> =
        Api::namespaced(client.clone(), &ns);
    let quota = serde_json::from_value(json!({
        "metadata": {"name": "no-hpas"},
        "spec": {"hard": {"count/horizontalpodautoscalers.autoscaling": "0"}}
    }))
    .expect("quota");
    quotas
        .create(&PostParams::default(), &quota)
        .await
        .expect("create quota");
    let _operator = InProcessOperator::start(&client, &ns, "op-isolation");
    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    let mut broken = minimal_example();
    broken.metadata.name = Some("broken".into());
    broken.spec.components.cart.autoscaling =
        serde_json::from_value(json!({"minReplicas": 1, "maxReplicas": 3})).expect("autoscaling");
    api.create(&PostParams::default(), &broken)
        .await
        .expect("create broken");
    create_minimal(&client, &ns).await;

    wait_ready(&client, &ns).await;
    let degraded = eventually(
        "the failing Storefront to report Degraded",
        Duration::from_secs(60),
        || async {
            let sf = api.get("broken").await.ok()?;
            sf.condition("Degraded")
                .filter(|c| c.status == "True" && c.reason == "ReconcileFailed")
                .cloned()
        },
    )
    .await;
    assert!(degraded.message.contains("quota"), "{}", degraded.message);
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let warned = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .iter()
        .any(|e| {
            e.reason.as_deref() == Some("ReconcileFailed")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("broken")
        });
    assert!(warned, "no ReconcileFailed event");

    // Once the cause is gone, the retries succeed.
    quotas
        .delete("no-hpas", &DeleteParams::default())
        .await
        .expect("delete quota");
    eventually(
        "the failing Storefront to recover",
        Duration::from_secs(90),
        || async {
            let sf = api.get("broken").await.ok()?;
            is_ready(&sf).then_some(())
        },
    )
    .await;
}

/// A backup Job as `kubectl create job --from=cronjob/<name>` makes it (the CronJob's template,
/// owned by the CronJob), handed to an outside controller so the test writes its status.
async fn backup_job(
    client: &Client,
    ns: &str,
    cron: &k8s_openapi::api::batch::v1::CronJob,
    name: &str,
) {
    use k8s_openapi::api::batch::v1::Job;
    let template = cron.spec.job_template.clone();
    let mut job: Job = serde_json::from_value(json!({
        "metadata": {
            "name": name,
            "labels": template.metadata.and_then(|m| m.labels),
            "ownerReferences": [{
                "apiVersion": "batch/v1", "kind": "CronJob",
                "name": cron.name_any(), "uid": cron.uid(),
            }],
        },
        "spec": template.spec,
    }))
    .expect("a Job");
    if let Some(spec) = job.spec.as_mut() {
        spec.managed_by = Some("storefront.dev/test".into());
    }
    Api::<Job>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &job)
        .await
        .expect("create the backup Job");
}

/// Marks a Job finished through its status subresource.
async fn finish_job(client: &Client, ns: &str, name: &str, succeeded: bool) {
    use k8s_openapi::api::batch::v1::Job;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let condition = |type_: &str| json!({"type": type_, "status": "True", "lastTransitionTime": now, "lastProbeTime": now});
    let status = if succeeded {
        json!({"status": {
            "startTime": now, "completionTime": now, "succeeded": 1, "active": 0, "failed": 0,
            "conditions": [condition("SuccessCriteriaMet"), condition("Complete")],
        }})
    } else {
        json!({"status": {
            "startTime": now, "succeeded": 0, "active": 0, "failed": 1,
            "conditions": [condition("FailureTarget"), condition("Failed")],
        }})
    };
    Api::<Job>::namespaced(client.clone(), ns)
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or_else(|e| panic!("mark {name} finished: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_render_cron_jobs_and_backup_healthy_follows_their_jobs() {
    use k8s_openapi::api::batch::v1::CronJob;
    let client = client().await;
    let ns = namespace(&client, "backups").await;
    let _operator = InProcessOperator::start(&client, &ns, "op-backups");
    let mut sf = minimal_example();
    sf.spec.backups = Some(
        serde_yaml::from_str(
            "schedule: \"0 3 * * *\"\nretention: 3\ntarget:\n  pvc: {claimName: shop-backups}\n",
        )
        .expect("backups"),
    );
    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    api.create(&PostParams::default(), &sf)
        .await
        .expect("create");

    let crons = eventually("five backup CronJobs", READY_TIMEOUT, || async {
        let crons: Vec<CronJob> = list(&client, &ns).await;
        (crons.len() == 5).then_some(crons)
    })
    .await;
    let sf = api.get("shop").await.expect("get");
    for cron in &crons {
        assert!(controlled_by(&cron.metadata, &sf), "{}", cron.name_any());
        assert_eq!(cron.spec.concurrency_policy.as_deref(), Some("Forbid"));
    }
    let condition = |status: &'static str, reason: &'static str| {
        let api = api.clone();
        async move {
            api.get("shop").await.ok().filter(|sf| {
                sf.condition("BackupHealthy")
                    .is_some_and(|c| c.status == status && c.reason == reason)
            })
        }
    };
    eventually(
        "BackupHealthy Unknown before any run",
        READY_TIMEOUT,
        || condition("Unknown", "NoBackupYet"),
    )
    .await;

    for cron in &crons {
        let name = format!("{}-manual-1", cron.name_any());
        backup_job(&client, &ns, cron, &name).await;
        finish_job(&client, &ns, &name, true).await;
    }
    let healthy = eventually(
        "BackupHealthy True after every database's backup",
        READY_TIMEOUT,
        || condition("True", "BackupsSucceeded"),
    )
    .await;
    assert!(
        healthy
            .status
            .as_ref()
            .and_then(|s| s.last_successful_backup.clone())
            .is_some()
    );

    let redis = crons
        .iter()
        .find(|c| c.name_any() == "shop-backup-redis")
        .expect("the Redis CronJob");
    backup_job(&client, &ns, redis, "shop-backup-redis-manual-2").await;
    finish_job(&client, &ns, "shop-backup-redis-manual-2", false).await;
    let failed = eventually("BackupHealthy False naming redis", READY_TIMEOUT, || {
        condition("False", "BackupFailed")
    })
    .await;
    let message = &failed
        .condition("BackupHealthy")
        .expect("condition")
        .message;
    assert!(
        message.contains("redis") && !message.contains("users"),
        "{message}"
    );

    backup_job(&client, &ns, redis, "shop-backup-redis-manual-3").await;
    finish_job(&client, &ns, "shop-backup-redis-manual-3", true).await;
    eventually("BackupHealthy True again", READY_TIMEOUT, || {
        condition("True", "BackupsSucceeded")
    })
    .await;

    // Removing the policy removes the CronJobs and the condition.
    let patch = json!({"spec": {"backups": null}});
    api.patch("shop", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    eventually("the CronJobs to go", READY_TIMEOUT, || async {
        let crons: Vec<CronJob> = list(&client, &ns).await;
        let sf = api.get("shop").await.ok()?;
        (crons.is_empty() && sf.condition("BackupHealthy").is_none()).then_some(())
    })
    .await;
}

/// Upgrade order of the components (the operator's `rollout::ORDER`).
const UPGRADE_ORDER: [&str; 5] = ["users", "catalog", "search", "cart", "store-ui"];

/// The version a component Deployment declares, and whether it runs it on every replica.
fn declared(d: &Deployment) -> (String, bool) {
    let version = d
        .annotations()
        .get("storefront.dev/version")
        .cloned()
        .unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    let replicas = d.spec.replicas.unwrap_or(1);
    let done = status.observed_generation >= d.metadata.generation
        && status.updated_replicas == Some(replicas)
        && status.available_replicas == Some(replicas)
        && status.replicas == Some(replicas);
    (version, done)
}

/// Every change of the store's Deployments, in the API server's order (one watch on the
/// collection), from before a spec change on.
struct DeploymentLog {
    events: std::sync::Arc<std::sync::Mutex<Vec<(String, String, bool)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DeploymentLog {
    async fn start(client: &Client, ns: &str) -> Self {
        use futures::StreamExt;
        use kube::runtime::watcher;
        let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (synced_tx, synced_rx) = tokio::sync::oneshot::channel();
        let log = events.clone();
        let task = tokio::spawn(async move {
            let mut synced = Some(synced_tx);
            let mut stream = watcher(api, watcher::Config::default().labels(INSTANCE)).boxed();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = synced.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(watcher::Event::Apply(d)) | Ok(watcher::Event::InitApply(d)) => {
                        let name = d.labels()["app.kubernetes.io/name"].clone();
                        let (version, done) = declared(&d);
                        log.lock().expect("log").push((name, version, done));
                    }
                    _ => {}
                }
            }
        });
        synced_rx.await.expect("the Deployment watch synced");
        DeploymentLog { events, task }
    }

    /// Position in the log where `component` first declared `version`, and where it first ran it
    /// on every replica.
    fn steps(&self, component: &str, version: &str) -> (Option<usize>, Option<usize>) {
        let events = self.events.lock().expect("log");
        let mine = || {
            events
                .iter()
                .enumerate()
                .filter(|(_, (n, v, _))| n == component && v == version)
        };
        (
            mine().map(|(i, _)| i).next(),
            mine()
                .filter(|(_, (_, _, done))| *done)
                .map(|(i, _)| i)
                .next(),
        )
    }
}

impl Drop for DeploymentLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn set_version(client: &Client, ns: &str, patch: serde_json::Value) -> Storefront {
    Api::<Storefront>::namespaced(client.clone(), ns)
        .patch("shop", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("change spec.version")
}

fn images(deployments: &[Deployment]) -> BTreeMap<String, String> {
    deployments
        .iter()
        .map(|d| {
            let image = d
                .spec
                .template
                .spec
                .as_ref()
                .and_then(|p| p.containers[0].image.clone())
                .unwrap_or_default();
            let tag = image.rsplit(':').next().unwrap_or_default().to_string();
            (d.labels()["app.kubernetes.io/name"].clone(), tag)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_version_reaches_one_component_at_a_time_in_order_across_an_operator_restart() {
    let client = client().await;
    let ns = namespace(&client, "upgrade").await;
    let operator = InProcessOperator::start(&client, &ns, "op-upgrade-1");
    create_minimal(&client, &ns).await;
    wait_ready(&client, &ns).await;

    let log = DeploymentLog::start(&client, &ns).await;
    set_version(&client, &ns, json!({"spec": {"version": "1.1.0"}})).await;
    // Restart the operator once the rollout has begun: the new one resumes from status.
    eventually("users to be given 1.1.0", READY_TIMEOUT, || async {
        log.steps("users", "1.1.0").0
    })
    .await;
    operator.stop().await;
    let _operator = InProcessOperator::start(&client, &ns, "op-upgrade-2");

    let sf = wait_ready(&client, &ns).await;
    let rollout = sf
        .status
        .as_ref()
        .and_then(|s| s.rollout.clone())
        .expect("rollout");
    assert_eq!(rollout.phase.as_str(), "Complete");
    assert_eq!(rollout.target_version, "1.1.0");
    assert_eq!(rollout.previous_version.as_deref(), Some("1.0.0"));
    assert_eq!(rollout.updated_components, 5);
    let status = sf.status.as_ref().expect("status");
    for c in UPGRADE_ORDER {
        assert_eq!(
            status.components[c].version.as_deref(),
            Some("1.1.0"),
            "{c}"
        );
    }

    // Each component was given the new version only after the one before it ran it everywhere.
    let mut previous_done: Option<(usize, &str)> = None;
    for c in UPGRADE_ORDER {
        let (started, done) = log.steps(c, "1.1.0");
        let started = started.unwrap_or_else(|| panic!("{c} never declared 1.1.0"));
        let done = done.unwrap_or_else(|| panic!("{c} never rolled out 1.1.0"));
        if let Some((before, name)) = previous_done {
            assert!(
                started > before,
                "{c} was upgraded (event {started}) before {name} had rolled out (event {before})"
            );
        }
        previous_done = Some((done, c));
    }
    eprintln!(
        "upgrade order held over {} Deployment events",
        log.events.lock().expect("log").len()
    );

    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let notes: Vec<(String, String)> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("Storefront"))
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect();
    for (step, c) in UPGRADE_ORDER.iter().enumerate() {
        let note = format!("upgrading {c} to 1.1.0 (step {} of 5)", step + 1);
        assert!(
            notes.iter().any(|(r, n)| r == "Upgrading" && *n == note),
            "no event {note:?} in {notes:?}"
        );
    }
    assert!(
        notes.iter().any(|(r, n)| r == "RolloutComplete"
            && n == "every component runs 1.1.0 (upgraded from 1.0.0)"),
        "{notes:?}"
    );
}

fn storefront_cli(ns: &str, args: &[&str]) -> (bool, String, String) {
    let cp = harness::control_plane();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storefront"))
        .arg("--kubeconfig")
        .arg(&cp.kubeconfig)
        .args(["-n", ns])
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run storefront");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_that_never_becomes_ready_degrades_the_store_and_stops_the_rollout() {
    let client = client().await;
    let ns = namespace(&client, "broken-upgrade").await;
    let _operator = InProcessOperator::start(&client, &ns, "op-broken-upgrade");
    create_minimal(&client, &ns).await;
    wait_ready(&client, &ns).await;

    // kwok keeps pods of *-unready images from ever becoming Ready (local/kube).
    set_version(
        &client,
        &ns,
        json!({"spec": {"version": "1.1.0-unready", "rollout": {"progressDeadlineSeconds": 10}}}),
    )
    .await;
    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    let sf = eventually("Degraded=True RolloutFailed", READY_TIMEOUT, || async {
        api.get_opt("shop").await.ok().flatten().filter(|sf| {
            sf.condition("Degraded")
                .is_some_and(|c| c.status == "True" && c.reason == "RolloutFailed")
        })
    })
    .await;
    let degraded = sf.condition("Degraded").expect("Degraded").clone();
    assert!(
        degraded.message.contains("users") && degraded.message.contains("1.1.0-unready"),
        "{}",
        degraded.message
    );
    assert!(
        degraded.message.contains("timed out progressing"),
        "{}",
        degraded.message
    );
    let rollout = sf
        .status
        .as_ref()
        .and_then(|s| s.rollout.clone())
        .expect("rollout");
    assert_eq!(
        (rollout.phase.as_str(), rollout.component.as_deref()),
        ("Failed", Some("users"))
    );
    assert_eq!(
        sf.condition("Ready").map(|c| c.status.as_str()),
        Some("False")
    );

    // The rollout stopped: only users declares the broken release, and the store keeps serving.
    let tags = images(&list::<Deployment>(&client, &ns).await);
    assert_eq!(tags["users"], "1.1.0-unready");
    for c in &UPGRADE_ORDER[1..] {
        assert_eq!(tags[*c], "1.0.0", "{c} must stay on the old version");
    }
    let users = list::<Deployment>(&client, &ns)
        .await
        .into_iter()
        .find(|d| d.name_any() == "shop-users")
        .expect("users Deployment");
    assert_eq!(
        users.status.as_ref().and_then(|s| s.available_replicas),
        Some(1),
        "the old users pod still serves"
    );
    // Still stopped a few reconciles later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tags = images(&list::<Deployment>(&client, &ns).await);
    assert_eq!(tags["catalog"], "1.0.0");

    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let failures: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("RolloutFailed"))
        .filter_map(|e| e.note)
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("users"), "{failures:?}");

    // The status CLI reports the known state.
    let (ok, out, err) = storefront_cli(&ns, &["status", "shop"]);
    assert!(ok, "storefront status failed: {err}");
    eprintln!("{out}");
    assert!(out.starts_with(&format!("Storefront {ns}/shop\n")), "{out}");
    assert!(out.contains("  Version:      1.1.0-unready\n"), "{out}");
    assert!(
        out.contains("  URL:          http://shop.example.com\n"),
        "{out}"
    );
    // Rows of the conditions and components tables (the rollout message may start with a name too).
    let row = |name: &str| {
        out.lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .find(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                cells.first() == Some(&name)
                    && (cells.len() == 4 || cells[1] == "True" || cells[1] == "False")
            })
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no {name} row in:\n{out}"))
    };
    assert_eq!(row("Degraded")[..3], ["Degraded", "True", "RolloutFailed"]);
    assert_eq!(row("Ready")[..2], ["Ready", "False"]);
    assert_eq!(row("users")[1..], ["service", "1/1", "1.1.0-unready"]);
    assert_eq!(row("cart")[1..], ["service", "1/1", "1.0.0"]);
    assert_eq!(row("postgres")[1..], ["database", "1/1", "-"]);
    assert!(
        out.contains(
            "  Failed to 1.1.0-unready (from 1.0.0): 0 of 5 components updated, at users\n"
        ),
        "{out}"
    );
    let (ok, _, err) = storefront_cli(&ns, &["status", "nope"]);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "storefront \"nope\" not found in namespace \"{ns}\""
        )),
        "{err}"
    );

    // Fixing spec.version resumes from the first component and clears Degraded.
    set_version(&client, &ns, json!({"spec": {"version": "1.1.1"}})).await;
    let sf = wait_ready(&client, &ns).await;
    assert_eq!(
        sf.condition("Degraded")
            .map(|c| (c.status.as_str(), c.reason.as_str())),
        Some(("False", "AsExpected"))
    );
    let tags = images(&list::<Deployment>(&client, &ns).await);
    for c in UPGRADE_ORDER {
        assert_eq!(tags[c], "1.1.1", "{c}");
    }
}
