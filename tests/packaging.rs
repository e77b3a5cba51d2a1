//! Packaging: the Kubernetes manifests (`config/kubernetes/`), the Grafana dashboard
//! (`config/grafana/`) and the alert rules (`config/prometheus/`) agree with each other, with
//! the Dockerfile, with `docs/METRICS.md` and with what this very build exports.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use serde::Deserialize;
use serde_yaml::Value;

/// Where the sidecar's config directory is mounted.
const CONFIG_DIR: &str = "/etc/phiguard";

/// Metrics that come with the egress work and are not in `docs/METRICS.md` yet.
const EGRESS_METRICS: &[&str] = &[
    "phiguard_phi_redactions_total",
    "phiguard_egress_blocked_total",
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------
// Kubernetes manifests
// ---------------------------------------------------------------------------------------

/// Every YAML document of every `.yaml`/`.yml` file in `config/kubernetes/`, with its file.
fn manifests() -> Vec<(String, Value)> {
    let dir = repo("config/kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in {}", dir.display());
    let mut docs = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !value.is_null() {
                docs.push((name.clone(), value));
            }
        }
    }
    docs
}

/// The one manifest of `kind` satisfying `pred`.
fn one<'a>(docs: &'a [(String, Value)], kind: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    let found: Vec<&Value> = docs
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v["kind"].as_str() == Some(kind) && pred(v))
        .collect();
    assert_eq!(found.len(), 1, "expected exactly one matching {kind}");
    found[0]
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

fn seq(v: &Value) -> &Vec<Value> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("not a list: {v:?}"))
}

/// The port of an `ip:port` address.
fn port_of(address: &str) -> u16 {
    address.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// A probe's or a Service's port (a number or a name of one of `container`'s ports).
fn resolve_port(port: &Value, container: &Value) -> u16 {
    if let Some(n) = port.as_u64() {
        return u16::try_from(n).unwrap();
    }
    let name = s(port);
    let p = seq(&container["ports"])
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no container port named {name}"));
    u16::try_from(p["containerPort"].as_u64().unwrap()).unwrap()
}

/// The `phiguard.yaml` ConfigMap: (its name, the file's key, the file's text).
fn config_map(docs: &[(String, Value)]) -> (String, String, String) {
    let cm = one(docs, "ConfigMap", |v| {
        v["data"]
            .as_mapping()
            .is_some_and(|m| m.keys().any(|k| k.as_str() == Some("phiguard.yaml")))
    });
    let (key, text) = cm["data"]
        .as_mapping()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() == Some("phiguard.yaml"))
        .unwrap();
    (
        s(&cm["metadata"]["name"]).to_owned(),
        s(key).to_owned(),
        s(text).to_owned(),
    )
}

/// The embedded phiguard config, parsed.
fn embedded_config(docs: &[(String, Value)]) -> Value {
    serde_yaml::from_str(&config_map(docs).2).unwrap()
}

/// Every string value under a key named `key`, anywhere in `v`.
fn values_of_key(v: &Value, key: &str, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, val) in m {
                if k.as_str() == Some(key) {
                    if let Some(text) = val.as_str() {
                        out.push(text.to_owned());
                    }
                }
                values_of_key(val, key, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| values_of_key(i, key, out)),
        _ => {}
    }
}

/// The numeric user of the Dockerfile's last `USER` line.
fn dockerfile_user() -> u64 {
    let dockerfile = read("Dockerfile");
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("USER "))
        .expect("the Dockerfile sets USER");
    let uid = user.trim().split(':').next().unwrap();
    uid.parse()
        .unwrap_or_else(|_| panic!("USER {uid} must be numeric for runAsNonRoot"))
}

#[test]
fn manifests_parse_and_reference_each_other() {
    let docs = manifests();
    for (file, doc) in &docs {
        assert!(doc["apiVersion"].is_string(), "{file}: no apiVersion");
        assert!(doc["kind"].is_string(), "{file}: no kind");
        if doc["kind"] != "Kustomization" {
            assert!(doc["metadata"]["name"].is_string(), "{file}: no name");
        }
    }
    if let Some((_, k)) = docs.iter().find(|(_, d)| d["kind"] == "Kustomization") {
        for r in seq(&k["resources"]) {
            assert!(repo("config/kubernetes").join(s(r)).is_file(), "{r:?}");
        }
    }

    let (cm_name, cm_key, _) = config_map(&docs);
    let config = embedded_config(&docs);
    let admin_port = port_of(s(&config["admin"]["address"]));
    let listener_port = port_of(s(&seq(&config["listeners"])[0]["address"]));
    let upstream_port = port_of(s(&config["upstreams"]["storefront"]["address"]));

    let deployment = one(&docs, "Deployment", |_| true);
    let pod = &deployment["spec"]["template"];
    let spec = &pod["spec"];

    // phiguard is a native sidecar.
    let sidecar = seq(&spec["initContainers"])
        .iter()
        .find(|c| c["name"] == "phiguard")
        .expect("phiguard is an init container");
    assert_eq!(sidecar["restartPolicy"], "Always", "not a native sidecar");
    let args: Vec<&str> = seq(&sidecar["args"]).iter().map(s).collect();
    assert_eq!(
        args,
        ["run", "--config", &format!("{CONFIG_DIR}/{cm_key}")],
        "args point at the ConfigMap's file"
    );

    // The ConfigMap is mounted as a directory (never subPath: no updates, no live reload).
    let mount = seq(&sidecar["volumeMounts"])
        .iter()
        .find(|m| m["mountPath"] == CONFIG_DIR)
        .expect("a mount at /etc/phiguard");
    assert!(mount["subPath"].is_null() && mount["subPathExpr"].is_null());
    let volume = seq(&spec["volumes"])
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume");
    assert_eq!(s(&volume["configMap"]["name"]), cm_name);
    let containers = seq(&spec["containers"])
        .iter()
        .chain(seq(&spec["initContainers"]));
    for c in containers.clone() {
        for m in c["volumeMounts"].as_sequence().into_iter().flatten() {
            if m["name"] == mount["name"] {
                assert!(
                    m["subPath"].is_null(),
                    "{}: subPath on the config",
                    c["name"].as_str().unwrap()
                );
            }
        }
    }

    // Probes hit the admin listener of the embedded config.
    for (probe, path) in [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")] {
        let get = &sidecar[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert_eq!(resolve_port(&get["port"], sidecar), admin_port, "{probe}");
    }
    if !sidecar["startupProbe"].is_null() {
        let get = &sidecar["startupProbe"]["httpGet"];
        assert_eq!(resolve_port(&get["port"], sidecar), admin_port);
    }

    // The app container listens where the embedded config's upstream points.
    let app = seq(&spec["containers"])
        .iter()
        .find(|c| c["name"] == "storefront")
        .expect("the storefront container");
    assert!(seq(&app["ports"])
        .iter()
        .any(|p| p["containerPort"].as_u64() == Some(u64::from(upstream_port))));

    // The Service sends traffic to phiguard's listener only.
    let service = one(&docs, "Service", |_| true);
    let ports = seq(&service["spec"]["ports"]);
    assert_eq!(ports.len(), 1, "the Service exposes one port");
    assert_eq!(
        resolve_port(&ports[0]["targetPort"], sidecar),
        listener_port
    );
    assert_eq!(ports[0]["port"].as_u64(), Some(u64::from(listener_port)));
    let selector = service["spec"]["selector"].as_mapping().unwrap();
    for (k, v) in selector {
        assert_eq!(&pod["metadata"]["labels"][k], v, "Service selector {k:?}");
    }

    // Network policies open phiguard's ports only, never the app's.
    for (_, policy) in docs.iter().filter(|(_, d)| d["kind"] == "NetworkPolicy") {
        for rule in seq(&policy["spec"]["ingress"]) {
            let ports = seq(&rule["ports"]);
            assert!(
                !ports.is_empty(),
                "an ingress rule without ports opens every port"
            );
            for p in ports {
                let port = resolve_port(&p["port"], sidecar);
                assert!(port == listener_port || port == admin_port, "opens {port}");
            }
        }
    }

    // Grace period: phiguard's drain and shutdown fit, with a margin.
    let grace = config["server"]["grace_period_secs"].as_u64().unwrap();
    let shutdown = config["server"]["shutdown_timeout_secs"].as_u64().unwrap();
    let drain = config["server"]["drain_delay_secs"].as_u64().unwrap_or(0);
    let termination = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        termination >= drain + grace + shutdown + 5,
        "terminationGracePeriodSeconds {termination} < {drain} + {grace} + {shutdown} + 5"
    );

    // Security context: the Dockerfile's user, nothing writable, nothing privileged.
    let sc = &sidecar["securityContext"];
    let user = sc["runAsUser"]
        .as_u64()
        .or(spec["securityContext"]["runAsUser"].as_u64())
        .expect("runAsUser");
    assert_eq!(
        user,
        dockerfile_user(),
        "runAsUser matches the Dockerfile's USER"
    );
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(seq(&sc["capabilities"]["drop"]), &[Value::from("ALL")]);
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    assert!(!sidecar["resources"]["requests"].is_null());
    assert!(!sidecar["resources"]["limits"]["memory"].is_null());

    // Every secret the config names by env var is given to the container from a Secret.
    let mut secret_envs = Vec::new();
    values_of_key(&config, "secret_env", &mut secret_envs);
    values_of_key(&config, "key_secret_env", &mut secret_envs);
    assert!(secret_envs.contains(&"SHOPIFY_WEBHOOK_SECRET".to_owned()));
    for name in &secret_envs {
        let env = seq(&sidecar["env"])
            .iter()
            .find(|e| e["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("env {name} not set"));
        assert!(
            env["valueFrom"]["secretKeyRef"]["name"].is_string(),
            "{name} from a Secret"
        );
    }

    // Scraping: the admin port's /metrics.
    let annotations = &pod["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(
        annotations["prometheus.io/port"],
        admin_port.to_string().as_str()
    );
    assert_eq!(annotations["prometheus.io/path"], "/metrics");

    // The dashboard ConfigMap holds the dashboard file, byte for byte.
    let dashboard = one(&docs, "ConfigMap", |v| {
        v["metadata"]["labels"]["grafana_dashboard"].is_string()
    });
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    let held = s(&dashboard["data"]["phiguard-dashboard.json"]);
    assert!(
        held == read("config/grafana/phiguard-dashboard.json"),
        "stale: run config/kubernetes/render-dashboard-configmap.sh"
    );
}

/// Runs `phiguard check` on the embedded config with `env` added to the environment.
fn check_embedded(env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(config_map(&manifests()).1);
    std::fs::write(&file, config_map(&manifests()).2).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--config", file.to_str().unwrap()])
        .env_remove("SHOPIFY_WEBHOOK_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn embedded_config_passes_check() {
    let (code, out) = check_embedded(&[("SHOPIFY_WEBHOOK_SECRET", "test-secret")]);
    assert_eq!(code, 0, "{out}");
    // The secret really is read from the environment.
    let (code, out) = check_embedded(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("SHOPIFY_WEBHOOK_SECRET"), "{out}");
}

// ---------------------------------------------------------------------------------------
// Metrics: docs, dashboard, alerts, /metrics
// ---------------------------------------------------------------------------------------

/// `docs/METRICS.md`'s table: metric name → type (`counter`, `gauge`, `histogram`).
fn documented_metrics() -> BTreeMap<String, String> {
    let doc = read("docs/METRICS.md");
    let metrics: BTreeMap<String, String> = doc
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells
                .get(1)?
                .strip_prefix("`phiguard_")?
                .strip_suffix('`')?;
            let kind = cells.get(2)?.split_whitespace().next()?;
            Some((format!("phiguard_{name}"), kind.to_owned()))
        })
        .collect();
    assert!(
        metrics.len() >= 10,
        "METRICS.md table not found: {metrics:?}"
    );
    metrics
}

/// Every `phiguard_*` name in `expr`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    regex::Regex::new(r"phiguard_[a-z0-9_]+")
        .unwrap()
        .find_iter(expr)
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// The documented (or egress) metric a series name belongs to, if any.
fn family_of(name: &str, documented: &BTreeMap<String, String>) -> Option<String> {
    if EGRESS_METRICS.contains(&name) || documented.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (documented.get(base).map(String::as_str) == Some("histogram")).then(|| base.to_owned())
    })
}

fn dashboard() -> serde_json::Value {
    serde_json::from_str(&read("config/grafana/phiguard-dashboard.json")).unwrap()
}

/// Panels in order, rows' collapsed children right after their row.
fn panels(dashboard: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for p in dashboard["panels"].as_array().unwrap() {
        out.push(p.clone());
        out.extend(p["panels"].as_array().into_iter().flatten().cloned());
    }
    out
}

/// Every query of the dashboard: panel targets and query variables.
fn dashboard_queries(dashboard: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = panels(dashboard)
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    for v in dashboard["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["definition"].as_str() {
            out.push(q.to_owned());
        }
    }
    out
}

#[test]
fn dashboard_shape_and_metric_names() {
    let d = dashboard();
    assert!(d["schemaVersion"].as_u64().unwrap() >= 36);
    let vars = d["templating"]["list"].as_array().unwrap();
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no ${name} variable"))
    };
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    assert_eq!(
        var("route")["definition"],
        "label_values(phiguard_requests_total, route)"
    );

    let all = panels(&d);
    for p in all.iter().filter(|p| p["type"] != "row") {
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
        assert!(
            !p["targets"].as_array().unwrap().is_empty(),
            "{}",
            p["title"]
        );
    }
    let mut ids: Vec<u64> = all.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "panel ids are unique");

    // Blocked leaks come first.
    assert_eq!(all[0]["type"], "row");
    assert!(all[0]["description"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("populated once egress routes are configured"));
    let first_use = |metric: &str| {
        all.iter()
            .position(|p| p.to_string().contains(metric))
            .unwrap_or_else(|| panic!("{metric} is not on the dashboard"))
    };
    for egress in EGRESS_METRICS {
        assert!(
            first_use(egress) < first_use("phiguard_requests_total"),
            "{egress} first"
        );
    }

    // Every name is documented (or egress), and every documented metric is shown.
    let documented = documented_metrics();
    let mut shown = BTreeSet::new();
    for q in dashboard_queries(&d) {
        for name in metric_names(&q) {
            let family =
                family_of(&name, &documented).unwrap_or_else(|| panic!("unknown {name} in {q}"));
            shown.insert(family);
        }
    }
    for name in documented.keys() {
        assert!(
            shown.contains(name),
            "{name} is documented but not on the dashboard: add a panel to \
             config/grafana/phiguard-dashboard.json, then run \
             config/kubernetes/render-dashboard-configmap.sh"
        );
    }
}

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct RuleGroup {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    alert: String,
    expr: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// GitHub's anchor for a Markdown heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn alert_rules_parse_and_use_known_metrics() {
    let file: RuleFile =
        serde_yaml::from_str(&read("config/prometheus/phiguard-alerts.yaml")).unwrap();
    let documented = documented_metrics();
    let operations = read("docs/OPERATIONS.md");
    let anchors: BTreeSet<String> = operations
        .lines()
        .filter_map(|l| l.strip_prefix('#').map(|h| slug(h.trim_start_matches('#'))))
        .collect();
    let mut alerts = BTreeSet::new();
    let mut used = BTreeSet::new();
    for group in &file.groups {
        assert!(!group.rules.is_empty(), "group {} is empty", group.name);
        for rule in &group.rules {
            assert!(
                alerts.insert(rule.alert.clone()),
                "duplicate {}",
                rule.alert
            );
            assert!(rule.labels.contains_key("severity"), "{}", rule.alert);
            for key in ["summary", "description", "runbook_url"] {
                assert!(
                    rule.annotations.contains_key(key),
                    "{}: no {key}",
                    rule.alert
                );
            }
            let anchor = rule.annotations["runbook_url"]
                .split_once("OPERATIONS.md#")
                .unwrap_or_else(|| panic!("{}: runbook not in OPERATIONS.md", rule.alert))
                .1;
            assert!(
                anchors.contains(anchor),
                "{}: no heading #{anchor}",
                rule.alert
            );
            let names = metric_names(&rule.expr);
            assert!(
                !names.is_empty() || rule.expr.contains("up{"),
                "{}",
                rule.alert
            );
            for name in names {
                let family = family_of(&name, &documented)
                    .unwrap_or_else(|| panic!("{}: unknown {name}", rule.alert));
                used.insert(family);
            }
        }
    }
    assert!(file.groups.iter().flat_map(|g| &g.rules).any(|r| r
        .expr
        .contains(r#"increase(phiguard_config_reloads_total{result="failure"}[15m]) > 0"#)));
    for metric in [
        "phiguard_egress_blocked_total",
        "phiguard_requests_total",
        "phiguard_upstream_errors_total",
        "phiguard_request_duration_seconds",
        "phiguard_config_reloads_total",
        "phiguard_ratelimit_backend_errors_total",
        "phiguard_enumeration_blocks_total",
        "phiguard_access_log_dropped_total",
    ] {
        assert!(used.contains(metric), "no alert on {metric}");
    }
}

/// `# TYPE name kind` lines of a Prometheus text exposition.
fn exported_types(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.strip_prefix("# TYPE ")?.split_whitespace();
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

#[test]
fn documented_and_dashboard_metrics_are_exported() {
    // The embedded sidecar config itself, on free local ports, with its secret inline.
    let mut config = embedded_config(&manifests());
    let body = config.as_mapping_mut().unwrap();
    for key in ["listeners", "admin", "server"] {
        body.remove(key);
    }
    for route in body.get_mut("routes").unwrap().as_sequence_mut().unwrap() {
        if let Some(webhook) = route.get_mut("webhook").and_then(Value::as_mapping_mut) {
            if webhook.remove("secret_env").is_some() {
                webhook.insert("secret".into(), "test-secret".into());
            }
        }
    }
    let body = serde_yaml::to_string(&config).unwrap();
    let pg = PhiGuard::start(&body);

    // A reload, so the reload counter has a series.
    let mut text = std::fs::read_to_string(&pg.config_file).unwrap();
    text.push_str("\n# touched by tests/packaging.rs\n");
    std::fs::write(&pg.config_file, text).unwrap();
    wait_for("a successful reload", Duration::from_secs(10), || {
        let metrics = pg.metrics_now();
        if metric_value(
            &metrics,
            r#"phiguard_config_reloads_total{result="success"}"#,
        )
        .is_some_and(|v| v >= 1.0)
        {
            return Some(());
        }
        // The directory watch may have taken it already; otherwise ask.
        let r = request("POST", &pg.admin_url("/reload"), &[]);
        assert_eq!(r.status, 200, "{r:?}");
        None
    });

    // An egress redaction and an egress block, so those counters have series. (The
    // redaction happens before any connection: Google being unreachable here is fine.)
    let _ = get(&pg.url("/t/ga4?v=2&uid=jane.doe%40example.com"));
    let refused = agent()
        .post(&pg.url("/t/ga4"))
        .set("content-type", "multipart/form-data; boundary=x")
        .send_bytes(b"--x--");
    assert!(matches!(refused, Err(ureq::Error::Status(451, _))));

    let exported = exported_types(&pg.metrics());
    let documented = documented_metrics();
    for (name, kind) in &documented {
        assert_eq!(
            exported.get(name),
            Some(kind),
            "{name} ({kind}) is documented but not exported"
        );
    }
    for name in exported.keys() {
        assert!(
            documented.contains_key(name) || EGRESS_METRICS.contains(&name.as_str()),
            "{name} is exported but not in docs/METRICS.md"
        );
    }
    for q in dashboard_queries(&dashboard()) {
        for name in metric_names(&q) {
            let family = family_of(&name, &documented).unwrap();
            if !EGRESS_METRICS.contains(&family.as_str()) {
                assert!(
                    exported.contains_key(&family),
                    "{name} in {q} is not exported"
                );
            }
        }
    }
}
