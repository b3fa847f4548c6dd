//! The Helm chart `charts/storefront-operator`: it lints and renders with the default and the
//! production-like values; its CRD is the generated one; its alert rules load in Prometheus and
//! pass their unit tests; its dashboards are well-formed; and, on a real control plane, the
//! rendered manifests apply, and the operator binary running as the chart's ServiceAccount (a
//! token from a TokenRequest, so RBAC is enforced) brings `examples/minimal.yaml` to Ready while
//! being refused everything the chart does not grant.
//!
//! Needs `helm` (`STOREFRONT_HELM_BIN`, else the cache of `local/helm/build.sh`; `cargo xtask
//! test` builds it) and `promtool` (Debian's `prometheus` package; `STOREFRONT_PROMTOOL` to
//! override).

mod harness;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use harness::{OperatorProcess, control_plane, eventually};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, Secret};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::Deserialize;
use serde_yaml::Value;
use storefront_operator::Storefront;

const RELEASE: &str = "sf";
const RELEASE_NAMESPACE: &str = "storefront-system";
/// The full name of the release's objects (`<release>-storefront-operator`).
const FULLNAME: &str = "sf-storefront-operator";
/// The chart's monitoring objects need the prometheus-operator's CRDs, which the local control
/// plane does not have; they are rendered and checked, not applied.
const WITHOUT_MONITORING_CRDS: &str = "metrics.serviceMonitor.enabled=false,metrics.storePodMonitor.enabled=false,prometheusRule.enabled=false";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chart() -> PathBuf {
    repo().join("charts/storefront-operator")
}

fn production_values() -> PathBuf {
    chart().join("ci/production-values.yaml")
}

fn helm() -> PathBuf {
    if let Some(bin) = std::env::var_os("STOREFRONT_HELM_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let version = std::fs::read_to_string(repo().join("local/helm/helm.version"))
        .expect("local/helm/helm.version");
    let bin = PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
        .join(".cache/storefront/parts")
        .join(format!("helm-{}", version.trim()))
        .join("helm");
    assert!(
        bin.exists(),
        "helm is missing at {}: build it with `local/helm/build.sh {}` (or run `cargo xtask test`), \
         or point STOREFRONT_HELM_BIN at a helm binary",
        bin.display(),
        bin.parent().map(Path::display).expect("a directory")
    );
    bin
}

fn promtool() -> PathBuf {
    let bin = std::env::var_os("STOREFRONT_PROMTOOL")
        .filter(|b| !b.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/promtool"), PathBuf::from);
    assert!(
        bin.exists(),
        "promtool is missing at {}: install Debian's prometheus package (`cargo xtask up` does), \
         or point STOREFRONT_PROMTOOL at it",
        bin.display()
    );
    bin
}

/// Runs `command`, panicking with its output when it fails; returns its stdout.
fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `helm template` of the chart with `args`, split into its documents.
fn render(args: &[&str]) -> Vec<Value> {
    render_release(RELEASE, RELEASE_NAMESPACE, args)
}

fn render_release(release: &str, namespace: &str, args: &[&str]) -> Vec<Value> {
    let text = run(Command::new(helm())
        .args(["template", release])
        .arg(chart())
        .args(["--namespace", namespace])
        .args(args));
    documents(&text)
}

fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("rendered YAML parses"))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

fn of_kind<'a>(docs: &'a [Value], wanted: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| kind(d) == wanted).collect()
}

fn one<'a>(docs: &'a [Value], wanted: &str) -> &'a Value {
    let found = of_kind(docs, wanted);
    assert_eq!(found.len(), 1, "expected one {wanted}, got {}", found.len());
    found[0]
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_sequence()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Every (apiGroup, resource, verb) a set of RBAC rules grants.
fn grants(rules: &Value) -> BTreeSet<(String, String, String)> {
    let mut all = BTreeSet::new();
    for rule in rules.as_sequence().expect("rules") {
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    all.insert((group.into(), resource.into(), verb.into()));
                }
            }
        }
    }
    all
}

fn grant(group: &str, resource: &str, verb: &str) -> (String, String, String) {
    (group.into(), resource.into(), verb.into())
}

#[test]
fn chart_lints_and_renders_a_hardened_operator_with_least_privilege_by_default() {
    run(Command::new(helm()).args(["lint", "--strict"]).arg(chart()));
    let docs = render(&["--include-crds"]);
    let kinds: BTreeSet<&str> = docs.iter().map(kind).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount",
        ]),
        "the default render holds no monitoring objects"
    );

    let deployment = one(&docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"].as_i64(), Some(2));
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"].as_str(), Some(FULLNAME));
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let container = &pod["containers"][0];
    assert_eq!(
        container["image"].as_str(),
        Some("ghcr.io/storefront/operator:0.1.0"),
        "the image tag defaults to the chart's appVersion"
    );
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(strings(&security["capabilities"]["drop"]), ["ALL"]);
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert!(container["resources"]["limits"]["memory"].is_string());
    let env: BTreeSet<&str> = container["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    for name in ["POD_NAME", "POD_NAMESPACE", "STOREFRONT_WATCH_NAMESPACE"] {
        assert!(env.contains(name), "{name} is set");
    }

    let cluster_role = one(&docs, "ClusterRole");
    let granted = grants(&cluster_role["rules"]);
    for (group, resource, verb) in &granted {
        assert!(
            group != "*" && resource != "*" && verb != "*",
            "no wildcards: {group}/{resource} {verb}"
        );
        assert!(
            ![
                "pods",
                "pods/exec",
                "nodes",
                "namespaces",
                "serviceaccounts"
            ]
            .contains(&resource.as_str()),
            "the operator never touches {resource}"
        );
        assert!(
            ![
                "escalate",
                "bind",
                "impersonate",
                "update",
                "deletecollection"
            ]
            .contains(&verb.as_str()),
            "{group}/{resource} {verb} is not needed"
        );
    }
    assert!(granted.contains(&grant("", "secrets", "create")));
    assert!(
        !granted.contains(&grant("", "secrets", "delete"))
            && !granted.contains(&grant("", "secrets", "patch")),
        "generated credentials are never changed"
    );
    assert!(!granted.contains(&grant("storefront.dev", "storefronts", "patch")));
    assert!(granted.contains(&grant("storefront.dev", "storefronts/status", "patch")));
    // Leases only in the release namespace, and only the operator's own one beyond create.
    let roles = of_kind(&docs, "Role");
    assert_eq!(roles.len(), 1);
    assert_eq!(
        roles[0]["metadata"]["namespace"].as_str(),
        Some(RELEASE_NAMESPACE)
    );
    assert_eq!(
        grants(&roles[0]["rules"]),
        BTreeSet::from([
            grant("coordination.k8s.io", "leases", "create"),
            grant("coordination.k8s.io", "leases", "get"),
            grant("coordination.k8s.io", "leases", "patch"),
        ])
    );
    assert_eq!(
        strings(&roles[0]["rules"][1]["resourceNames"]),
        ["storefront-operator"]
    );
}

#[test]
fn chart_renders_production_values_and_a_namespaced_scope() {
    run(Command::new(helm())
        .args(["lint", "--strict", "--values"])
        .arg(production_values())
        .arg(chart()));
    let docs = render(&["--values", &production_values().to_string_lossy()]);
    assert_eq!(
        one(&docs, "Deployment")["spec"]["replicas"].as_i64(),
        Some(3)
    );
    for monitoring in ["ServiceMonitor", "PodMonitor", "PrometheusRule"] {
        let doc = one(&docs, monitoring);
        assert_eq!(
            doc["metadata"]["labels"]["release"].as_str(),
            Some("kube-prometheus-stack"),
            "{monitoring} carries the label Prometheus selects"
        );
    }
    let dashboards = of_kind(&docs, "ConfigMap");
    assert_eq!(dashboards.len(), 2, "operator and store overview");
    for cm in dashboards {
        assert_eq!(
            cm["metadata"]["labels"]["grafana_dashboard"].as_str(),
            Some("1")
        );
        assert_eq!(cm["metadata"]["namespace"].as_str(), Some("monitoring"));
    }

    // Scoped to one namespace: a Role there, nothing cluster-wide.
    let docs = render(&["--set", "watchNamespace=shops"]);
    assert!(of_kind(&docs, "ClusterRole").is_empty());
    assert!(of_kind(&docs, "ClusterRoleBinding").is_empty());
    let scoped: Vec<&Value> = of_kind(&docs, "Role")
        .into_iter()
        .filter(|r| r["metadata"]["namespace"].as_str() == Some("shops"))
        .collect();
    assert_eq!(scoped.len(), 1);
    assert!(grants(&scoped[0]["rules"]).contains(&grant("apps", "deployments", "patch")));
}

#[test]
fn chart_crd_is_the_generated_one() {
    let in_chart = std::fs::read_to_string(chart().join("crds/storefront.yaml"))
        .expect("charts/storefront-operator/crds/storefront.yaml");
    let generated = storefront_operator::crdgen::crd_yaml().expect("CRD serialises");
    assert!(
        in_chart == generated,
        "the chart's CRD is stale: run `cargo run -p storefront-operator --bin crdgen | tee \
         crds/storefront.yaml charts/storefront-operator/crds/storefront.yaml`"
    );
}

#[test]
fn alert_rules_load_in_prometheus_and_pass_their_unit_tests() {
    let docs = render(&["--values", &production_values().to_string_lossy()]);
    let rule = one(&docs, "PrometheusRule");
    let dir = tempdir("rules");
    let rendered = dir.join("rendered.rules.yaml");
    std::fs::write(
        &rendered,
        serde_yaml::to_string(&rule["spec"]).expect("rules serialise"),
    )
    .expect("write the rendered rules");
    let check = run(Command::new(promtool())
        .args(["check", "rules"])
        .arg(&rendered));
    assert!(check.contains("SUCCESS: 16 rules found"), "{check}");

    // The PrometheusRule carries the rule file unchanged (Prometheus templates included).
    let file = chart().join("files/alerts/storefront.rules.yaml");
    let source: Value =
        serde_yaml::from_str(&std::fs::read_to_string(&file).expect("rules file")).expect("YAML");
    assert_eq!(rule["spec"], source);

    let tests = run(Command::new(promtool())
        .args(["test", "rules"])
        .arg(chart().join("files/alerts/storefront.test.yaml")));
    assert!(tests.contains("SUCCESS"), "{tests}");

    // Every operator series the rules and dashboards use is one the operator exports.
    let exported: BTreeSet<&str> = BTreeSet::from([
        storefront_operator::metrics::RECONCILES,
        storefront_operator::metrics::RECONCILE_ERRORS,
        storefront_operator::metrics::RECONCILE_DURATION,
        storefront_operator::metrics::QUEUE_DEPTH,
        storefront_operator::metrics::IN_FLIGHT,
        storefront_operator::metrics::LEADER,
        storefront_operator::metrics::APPLIED_OBJECTS,
        storefront_operator::metrics::API_REQUESTS,
        storefront_operator::store_metrics::READY_GAUGE,
        storefront_operator::store_metrics::BACKUP_HEALTHY_GAUGE,
        storefront_operator::store_metrics::LAST_BACKUP_GAUGE,
    ]);
    let mut texts = vec![std::fs::read_to_string(&file).expect("rules file")];
    for dashboard in dashboard_files() {
        texts.push(std::fs::read_to_string(dashboard).expect("dashboard"));
    }
    let mut used = BTreeSet::new();
    for text in &texts {
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            // Whole series names only (the rule file's comments say `storefront_backup_*`).
            if word.starts_with("storefront_") && !word.ends_with('_') {
                let series = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|s| word.strip_suffix(s))
                    .unwrap_or(word);
                used.insert(series.to_string());
            }
        }
    }
    assert!(
        used.len() >= 8,
        "rules and dashboards use the operator's series: {used:?}"
    );
    for series in &used {
        assert!(
            exported.contains(series.as_str()),
            "{series} is used by an alert or a dashboard but the operator does not export it"
        );
    }
}

/// Kills the child process when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The body of `GET path` on 127.0.0.1:`port` (HTTP/1.0, so never chunked).
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_string())
}

#[test]
fn alert_rules_load_and_evaluate_in_a_running_prometheus() {
    let prometheus = promtool().with_file_name("prometheus");
    assert!(
        prometheus.exists(),
        "prometheus is missing beside promtool at {}",
        prometheus.display()
    );
    let docs = render(&["--values", &production_values().to_string_lossy()]);
    let dir = tempdir("prometheus");
    std::fs::write(
        dir.join("rules.yaml"),
        serde_yaml::to_string(&one(&docs, "PrometheusRule")["spec"]).expect("YAML"),
    )
    .expect("write the rules");
    std::fs::write(
        dir.join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\nrule_files:\n  - rules.yaml\n",
    )
    .expect("write the configuration");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("log");
    let _server = KillOnDrop(
        Command::new(&prometheus)
            .arg("--config.file=prometheus.yml")
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .current_dir(&dir)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );
    // Every group loaded, every rule evaluated without error.
    let started = std::time::Instant::now();
    let (groups, rules) = loop {
        let loaded = http_get(port, "/api/v1/rules")
            .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
            .and_then(|json| {
                let groups = json["data"]["groups"].as_array()?.clone();
                let rules: Vec<serde_json::Value> = groups
                    .iter()
                    .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                    .collect();
                let evaluated = !rules.is_empty() && rules.iter().all(|r| r["health"] == "ok");
                evaluated.then_some((groups, rules))
            });
        if let Some(loaded) = loaded {
            break loaded;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "prometheus did not load and evaluate the rules within 60s: {}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let names: BTreeSet<&str> = groups.iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "storefront-operator",
            "storefront-stores",
            "storefront-slo.rules",
            "storefront-slo"
        ])
    );
    assert_eq!(rules.len(), 16);
    // With no operator scraped, the no-leader alert is already pending: the rules really run.
    let no_leader = rules
        .iter()
        .find(|r| r["name"] == "StorefrontOperatorNoLeader")
        .expect("the no-leader alert");
    assert_eq!(no_leader["state"], "pending", "{no_leader}");
}

fn dashboard_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(chart().join("files/dashboards"))
        .expect("dashboards directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn dashboards_are_grafana_json_whose_every_panel_has_a_datasource_and_queries() {
    let files = dashboard_files();
    assert_eq!(files.len(), 2, "{files:?}");
    let mut uids = BTreeSet::new();
    // Every query, as a recording rule, so that promtool parses its PromQL.
    let mut queries = Vec::new();
    for file in &files {
        let name = file.display();
        let dashboard: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("read"))
                .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        let uid = dashboard["uid"].as_str().expect("uid");
        assert!(uids.insert(uid.to_string()), "{name}: uid {uid} is unique");
        assert!(dashboard["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(dashboard["schemaVersion"].as_i64().is_some());
        let variables = dashboard["templating"]["list"]
            .as_array()
            .expect("templating");
        assert!(
            variables
                .iter()
                .any(|v| v["type"] == "datasource" && v["name"] == "datasource"),
            "{name} lets the user pick the Prometheus data source"
        );
        let panels = dashboard["panels"].as_array().expect("panels");
        assert!(panels.len() >= 6, "{name} has its panels");
        let mut ids = BTreeSet::new();
        for panel in panels {
            let title = panel["title"].as_str().expect("panel title");
            assert!(
                ids.insert(panel["id"].as_i64().expect("panel id")),
                "{name}: {title} id"
            );
            assert!(
                panel["gridPos"]["w"].as_i64().is_some(),
                "{name}: {title} gridPos"
            );
            assert_eq!(
                panel["datasource"]["uid"], "${datasource}",
                "{name}: {title} has the data source"
            );
            let targets = panel["targets"].as_array().expect("targets");
            assert!(!targets.is_empty(), "{name}: {title} has queries");
            for target in targets {
                let expr = target["expr"].as_str().unwrap_or_default();
                assert!(!expr.trim().is_empty(), "{name}: {title} has an expr");
                assert_eq!(target["datasource"]["uid"], "${datasource}");
                queries.push(serde_json::json!({
                    "record": format!("dashboard:query:{}", queries.len()),
                    "expr": expr.replace("$namespace", ".*").replace("$service", ".*"),
                }));
            }
        }
    }
    let rules = tempdir("dashboards").join("queries.rules.yaml");
    let file = serde_json::json!({"groups": [{"name": "dashboard-queries", "rules": queries}]});
    std::fs::write(&rules, serde_yaml::to_string(&file).expect("YAML")).expect("write");
    let check = run(Command::new(promtool())
        .args(["check", "rules"])
        .arg(&rules));
    assert!(
        check.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{check}"
    );
}

fn tempdir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storefront-chart-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// kubectl with the admin kubeconfig.
fn kubectl(args: &[&str]) -> String {
    let cp = control_plane();
    run(Command::new(cp.bin.join("kubectl"))
        .arg(format!("--kubeconfig={}", cp.kubeconfig.display()))
        .args(args))
}

/// Renders the chart as `release` in `namespace` with `args`, creates the namespace, applies the
/// render with a server-side dry run and then for real, and waits for the operator's rollout.
fn install(release: &str, namespace: &str, args: &[&str], dir: &Path) {
    let mut all = vec!["--include-crds"];
    all.extend_from_slice(args);
    let docs = render_release(release, namespace, &all);
    let manifests = dir.join(format!("{release}.rendered.yaml"));
    let text: String = docs
        .iter()
        .map(|d| format!("---\n{}", serde_yaml::to_string(d).expect("YAML")))
        .collect();
    std::fs::write(&manifests, text).expect("write the render");
    let manifests = manifests.to_string_lossy().to_string();
    kubectl(&["create", "namespace", namespace]);
    kubectl(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        &manifests,
    ]);
    kubectl(&["apply", "--server-side", "-f", &manifests]);
    kubectl(&[
        "-n",
        namespace,
        "rollout",
        "status",
        &format!("deployment/{release}-storefront-operator"),
        "--timeout=90s",
    ]);
}

/// A kubeconfig with a fresh token (TokenRequest) of the ServiceAccount `name` in `namespace`.
fn service_account_kubeconfig(namespace: &str, name: &str, dir: &Path) -> PathBuf {
    let token = kubectl(&["-n", namespace, "create", "token", name, "--duration=1h"]);
    let path = dir.join(format!("{namespace}-{name}.kubeconfig"));
    token_kubeconfig(token.trim(), &path);
    path
}

/// A kubeconfig that authenticates with `token` against the control plane's API server.
fn token_kubeconfig(token: &str, path: &Path) {
    let admin: Value = serde_yaml::from_str(
        &std::fs::read_to_string(&control_plane().kubeconfig).expect("admin kubeconfig"),
    )
    .expect("kubeconfig YAML");
    let cluster = admin["clusters"][0]["cluster"].clone();
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster}],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "local", "user": "operator"}}],
        "current-context": "operator",
    });
    std::fs::write(path, serde_yaml::to_string(&config).expect("YAML")).expect("write kubeconfig");
}

async fn client_from(kubeconfig: &Path) -> Client {
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::read_from(kubeconfig).expect("kubeconfig"),
        &KubeConfigOptions::default(),
    )
    .await
    .expect("client config");
    Client::try_from(config).expect("client")
}

fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) {
    match result {
        Err(kube::Error::Api(e)) if e.code == 403 => {}
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_installed_from_the_chart_reconciles_as_its_service_account_and_nothing_more() {
    let cp = control_plane();
    let dir = tempdir("install");

    // The production-like render (minus the prometheus-operator kinds), dry-run then for real.
    kubectl(&["create", "namespace", "monitoring"]);
    install(
        RELEASE,
        RELEASE_NAMESPACE,
        &[
            "--values",
            &production_values().to_string_lossy(),
            "--set",
            WITHOUT_MONITORING_CRDS,
        ],
        &dir,
    );

    // Every example is a valid Storefront for the installed CRD.
    kubectl(&["create", "namespace", "chart-shop"]);
    for example in ["minimal", "production", "backups"] {
        let path = repo().join(format!("examples/{example}.yaml"));
        kubectl(&[
            "-n",
            "chart-shop",
            "apply",
            "--server-side",
            "--dry-run=server",
            "-f",
            &path.to_string_lossy(),
        ]);
    }

    // The operator binary, authenticated only by the chart's ServiceAccount token.
    let sa_kubeconfig = service_account_kubeconfig(RELEASE_NAMESPACE, FULLNAME, &dir);
    let sa_kubeconfig_str = sa_kubeconfig.to_string_lossy().to_string();
    let operator = OperatorProcess::spawn_with(
        "",
        "chart-operator",
        &[
            ("KUBECONFIG", sa_kubeconfig_str.as_str()),
            ("POD_NAMESPACE", RELEASE_NAMESPACE),
        ],
    );

    let admin = harness::client().await;
    let storefronts: Api<Storefront> = Api::namespaced(admin.clone(), "chart-shop");
    storefronts
        .create(&PostParams::default(), &harness::minimal_example())
        .await
        .expect("create the minimal example");
    let log_file = cp.dir.join("operator-chart-operator.log");
    let refusals = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains("forbidden") || l.contains("Forbidden"))
            .map(str::to_string)
            .collect()
    };
    eventually(
        "the minimal example Ready",
        Duration::from_secs(120),
        || {
            let storefronts = storefronts.clone();
            let log = std::fs::read_to_string(&log_file).unwrap_or_default();
            let refused = refusals(&log);
            assert!(
                refused.is_empty(),
                "the chart's RBAC refused the operator something:\n{}",
                refused.join("\n")
            );
            async move {
                let sf = storefronts.get("shop").await.ok()?;
                sf.condition("Ready")
                    .filter(|c| c.status == "True")
                    .map(|_| ())
            }
        },
    )
    .await;

    // It leads through the Lease the chart lets it write, in the release namespace.
    let lease = Api::<Lease>::namespaced(admin.clone(), RELEASE_NAMESPACE)
        .get("storefront-operator")
        .await
        .expect("the leader Lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("chart-operator")
    );
    // It publishes Events.
    let events = Api::<Event>::namespaced(admin.clone(), "chart-shop")
        .list(&ListParams::default())
        .await
        .expect("events");
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reporting_controller.as_deref() == Some("storefront-operator")),
        "the operator published Events"
    );
    // Its per-Storefront gauges, which the alerts read.
    let ready_line = "storefront_ready{namespace=\"chart-shop\",storefront=\"shop\"} 1";
    eventually(
        "storefront_ready = 1 on /metrics",
        Duration::from_secs(30),
        || async {
            operator
                .metrics()
                .await
                .filter(|m| m.contains(ready_line))
                .map(|_| ())
        },
    )
    .await;
    // And nothing it did was refused.
    let refused = refusals(&std::fs::read_to_string(&log_file).expect("operator log"));
    assert!(
        refused.is_empty(),
        "the chart's RBAC refused the operator something:\n{}",
        refused.join("\n")
    );

    // Least privilege, by real requests with the same token.
    let sa = client_from(&sa_kubeconfig).await;
    forbidden(
        "list pods",
        Api::<Pod>::namespaced(sa.clone(), "chart-shop")
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list nodes",
        Api::<Node>::all(sa.clone())
            .list(&ListParams::default())
            .await,
    );
    let secrets = Api::<Secret>::namespaced(sa.clone(), "chart-shop");
    let generated = Api::<Secret>::namespaced(admin.clone(), "chart-shop")
        .list(&ListParams::default().labels("app.kubernetes.io/instance=shop"))
        .await
        .expect("secrets");
    let secret = generated.items.first().expect("a generated Secret");
    let name = secret.metadata.name.clone().expect("name");
    assert!(secrets.get(&name).await.is_ok(), "it may read its Secrets");
    forbidden(
        "delete a generated Secret",
        secrets.delete(&name, &DeleteParams::default()).await,
    );
    forbidden(
        "overwrite a generated Secret",
        secrets
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"data": {"x": "eA=="}})),
            )
            .await,
    );
    forbidden(
        "delete a Storefront",
        Api::<Storefront>::namespaced(sa.clone(), "chart-shop")
            .delete("shop", &DeleteParams::default())
            .await,
    );
    forbidden(
        "change a Storefront's spec",
        Api::<Storefront>::namespaced(sa.clone(), "chart-shop")
            .patch(
                "shop",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"paused": true}})),
            )
            .await,
    );
    forbidden(
        "change the CRD",
        Api::<CustomResourceDefinition>::all(sa.clone())
            .patch(
                "storefronts.storefront.dev",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"metadata": {"labels": {"x": "y"}}})),
            )
            .await,
    );
    let binding: ClusterRoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "storefront-operator-escalation"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": RELEASE_NAMESPACE}],
    }))
    .expect("binding");
    forbidden(
        "bind itself to cluster-admin",
        Api::<ClusterRoleBinding>::all(sa.clone())
            .create(&PostParams::default(), &binding)
            .await,
    );
    forbidden(
        "read a Lease outside the release namespace",
        Api::<Lease>::namespaced(sa.clone(), "kube-node-lease")
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "read another Lease in the release namespace",
        Api::<Lease>::namespaced(sa.clone(), RELEASE_NAMESPACE)
            .get("someone-else")
            .await,
    );
    drop(operator);

    // Scoped to one namespace: a Role there is all it gets, and it is enough.
    kubectl(&["create", "namespace", "scoped-shop"]);
    install(
        "scoped",
        "storefront-scoped",
        &["--set", "watchNamespace=scoped-shop"],
        &dir,
    );
    let scoped_kubeconfig =
        service_account_kubeconfig("storefront-scoped", "scoped-storefront-operator", &dir);
    let scoped_kubeconfig_str = scoped_kubeconfig.to_string_lossy().to_string();
    let _scoped_operator = OperatorProcess::spawn_with(
        "scoped-shop",
        "scoped-operator",
        &[
            ("KUBECONFIG", scoped_kubeconfig_str.as_str()),
            ("POD_NAMESPACE", "storefront-scoped"),
        ],
    );
    let scoped: Api<Storefront> = Api::namespaced(admin.clone(), "scoped-shop");
    scoped
        .create(&PostParams::default(), &harness::minimal_example())
        .await
        .expect("create the minimal example");
    let scoped_log = cp.dir.join("operator-scoped-operator.log");
    eventually(
        "the scoped operator's store Ready",
        Duration::from_secs(120),
        || {
            let scoped = scoped.clone();
            let refused = refusals(&std::fs::read_to_string(&scoped_log).unwrap_or_default());
            assert!(
                refused.is_empty(),
                "the scoped Role refused the operator something:\n{}",
                refused.join("\n")
            );
            async move {
                let sf = scoped.get("shop").await.ok()?;
                sf.condition("Ready")
                    .filter(|c| c.status == "True")
                    .map(|_| ())
            }
        },
    )
    .await;
    let scoped_sa = client_from(&scoped_kubeconfig).await;
    forbidden(
        "read Storefronts outside its namespace",
        Api::<Storefront>::namespaced(scoped_sa.clone(), "chart-shop")
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "read Secrets outside its namespace",
        Api::<Secret>::namespaced(scoped_sa.clone(), "chart-shop")
            .list(&ListParams::default())
            .await,
    );
}
