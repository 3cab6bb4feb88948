//! Talos's own validator as the oracle (`tools/talos-oracle/`, Go, built per supported Talos
//! minor against that minor's `github.com/siderolabs/talos/pkg/machinery`).
//!
//! - Every fixture intent (and the README example) is built for every supported Talos minor;
//!   the oracle does what the RUNBOOK does (gen config with the version contract and the role
//!   patches, then each node patch) and validates every rendered node config like `talosctl
//!   validate --mode metal --strict`. Any problem fails the test.
//! - Differential check of the Talos rules: every `fires*` fixture of a rule that claims "Talos
//!   rejects this" is rejected by the oracle, every `silent*` TAL fixture is accepted; so are
//!   the INT002/INT003 fixtures with Talos patches (`talos/`).
//!
//! Needs Go (and the Go module proxy for the first build). Without `go` the tests print a note
//! and pass, unless `CI` is set: then they fail. `TALOS_ORACLE_DIR` may point at binaries built
//! by `tools/talos-oracle/build.sh` to skip the build.

mod build_support;

use build_support::{fixture_intents, fixture_name, repo, try_build, write_into_temp_dir};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use talhorn::knowledge::talos::{CONTROL_PLANE_TAINT, DIALECTS, Dialect};

// ---------------------------------------------------------------------------------------------
// Known oracle failures outside this test's reach.

/// A problem the oracle reports that is known and tracked elsewhere: (fixture name or `*`,
/// Talos minor or 0 for every minor, a substring of the oracle's message, why it is accepted
/// for now). Every entry that is used is printed; an entry that matches nothing fails the test,
/// so the list cannot go stale.
const KNOWN_ORACLE_FAILURES: &[(&str, u32, &str, &str)] = &[];

/// The directory of the oracle binaries, built once per test run; `None` without Go.
fn oracle_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(build_oracle).as_deref()
}

fn build_oracle() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TALOS_ORACLE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let go_works = Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !go_works {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but `go` is not on PATH: the Talos oracle cannot be built (install Go >= 1.26)"
        );
        eprintln!("note: `go` not found; skipping the Talos oracle tests (install Go >= 1.26)");
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("talos-oracle");
    let status = Command::new("bash")
        .arg(repo().join("tools/talos-oracle/build.sh"))
        .arg(&dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run tools/talos-oracle/build.sh: {e}"));
    assert!(status.success(), "tools/talos-oracle/build.sh failed");
    Some(dir)
}

/// The oracle binary for a minor; every supported dialect must have one.
fn oracle_for(dir: &Path, minor: u32) -> PathBuf {
    let binary = dir.join(format!("talos-oracle-v1.{minor}"));
    assert!(
        binary.is_file(),
        "no Talos oracle for v1.{minor}: add tools/talos-oracle/v1.{minor}.mod (see its README)"
    );
    binary
}

/// One node to check: name, role (`controlplane`/`worker`), node patch (absolute paths).
struct OracleNode {
    name: String,
    role: String,
    patches: Vec<PathBuf>,
}

/// What the RUNBOOK feeds `talosctl gen config`.
struct OracleRequest {
    cluster_name: String,
    endpoint: String,
    talos_version: String,
    kubernetes_version: String,
    controlplane_patches: Vec<PathBuf>,
    worker_patches: Vec<PathBuf>,
    nodes: Vec<OracleNode>,
}

/// What the oracle answered.
struct OracleReport {
    /// Each problem as one line: `node (stage): message`.
    problems: Vec<String>,
    /// Node name -> the config Talos would run with (gen config + role and node patches).
    rendered: BTreeMap<String, String>,
}

fn run_oracle(binary: &Path, request: &OracleRequest) -> OracleReport {
    let at = |paths: &[PathBuf]| -> Vec<String> {
        paths.iter().map(|p| format!("@{}", p.display())).collect()
    };
    let body = json!({
        "clusterName": request.cluster_name,
        "endpoint": request.endpoint,
        "talosVersion": request.talos_version,
        "kubernetesVersion": request.kubernetes_version,
        "controlplanePatches": at(&request.controlplane_patches),
        "workerPatches": at(&request.worker_patches),
        "nodes": request.nodes.iter().map(|n| json!({
            "name": n.name, "role": n.role, "patches": at(&n.patches),
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(body.to_string().as_bytes())
            .expect("write the oracle request");
    }
    let output = child.wait_with_output().expect("oracle output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() != Some(2),
        "{} refused the request: {stderr}\nrequest: {body}",
        binary.display()
    );
    let report: Json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{} printed no JSON report ({e}); stderr: {stderr}",
            binary.display()
        )
    });
    let checked = report["checked"].as_array().map_or(0, Vec::len);
    let all_problems = report["problems"].as_array().cloned().unwrap_or_default();
    // Fewer nodes only when gen config itself failed (a problem of no single node).
    assert!(
        checked == request.nodes.len() || all_problems.iter().any(|p| p["node"].is_null()),
        "the oracle checked fewer nodes than asked: {report}"
    );
    let problems: Vec<String> = all_problems
        .iter()
        .map(|p| {
            let node = p["node"].as_str().or(p["role"].as_str()).unwrap_or("(all)");
            let stage = p["stage"].as_str().unwrap_or("?");
            let message = p["message"].as_str().unwrap_or("?");
            format!("{node} ({stage}): {message}")
        })
        .collect();
    assert_eq!(
        problems.is_empty(),
        output.status.success(),
        "exit status and report disagree: {report}"
    );
    let rendered = report["rendered"]
        .as_object()
        .unwrap_or_else(|| panic!("the oracle report has no `rendered` configs: {report}"))
        .iter()
        .map(|(node, config)| {
            (
                node.clone(),
                config.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    OracleReport { problems, rendered }
}

// ---------------------------------------------------------------------------------------------
// Every fixture intent, every minor.

/// The intent text with `cluster.talos` set to `version`; a pinned `cluster.kubernetes` is
/// dropped (Talos's default for that minor is used) when the minor changes.
fn retarget(text: &str, version: &str, native_minor: u32, minor: u32) -> String {
    let mut in_cluster = false;
    let mut out = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
            in_cluster = line.starts_with("cluster:");
        }
        let key = line.trim_start();
        let nested = line.len() > key.len();
        if in_cluster && nested && key.starts_with("talos:") {
            let indent = &line[..line.len() - key.len()];
            out.push_str(&format!("{indent}talos: {version}\n"));
            continue;
        }
        if in_cluster && nested && key.starts_with("kubernetes:") && minor != native_minor {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

struct IntentFacts {
    name: String,
    endpoint: String,
    native_minor: u32,
    kubernetes: Option<String>,
    nodes: Vec<(String, String)>,
    allow_scheduling_on_control_planes: bool,
}

fn intent_facts(path: &Path, text: &str) -> IntentFacts {
    let mut cluster = talhorn::model::Cluster::default();
    let file = cluster
        .sources
        .add(talhorn::source::SourceFile::new(path, text.to_string()));
    let loaded = talhorn::intent::load(file, text)
        .unwrap_or_else(|e| panic!("{} does not load: {e:#?}", path.display()));
    let spec = loaded.intent;
    let version = talhorn::knowledge::talos::TalosVersion::parse(&spec.cluster.talos)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    IntentFacts {
        name: spec.cluster.name,
        endpoint: spec.cluster.endpoint,
        native_minor: version.minor,
        kubernetes: spec.cluster.kubernetes,
        nodes: spec
            .nodes
            .iter()
            .map(|n| (n.name.clone(), n.role.as_str().to_string()))
            .collect(),
        allow_scheduling_on_control_planes: spec.cluster.allow_scheduling_on_control_planes,
    }
}

/// Whether Talos lets workloads onto a control plane with this rendered config: up to v1.13
/// `cluster.allowSchedulingOnControlPlanes: true`; from v1.14 (which rejects that field) no
/// control-plane taint in the `KubeNodeConfig` document.
fn control_plane_schedulable(rendered: &str) -> bool {
    let docs = talhorn::yaml::parse_documents(rendered)
        .unwrap_or_else(|e| panic!("the oracle rendered unreadable YAML: {e:?}\n{rendered}"));
    let node_config = docs
        .iter()
        .find(|d| d.get("kind").and_then(|k| k.as_str()) == Some("KubeNodeConfig"));
    match node_config {
        Some(doc) => doc.path(&["taints", CONTROL_PLANE_TAINT]).is_none(),
        None => docs.iter().any(|d| {
            d.path(&["cluster", "allowSchedulingOnControlPlanes"])
                .and_then(|v| v.scalar_text())
                .is_some_and(|v| v == "true")
        }),
    }
}

/// The control planes whose rendered config does not do what the intent chose for scheduling
/// workloads there (`cluster.allowSchedulingOnControlPlanes`).
fn scheduling_mismatches(
    fixture: &str,
    minor: u32,
    facts: &IntentFacts,
    report: &OracleReport,
) -> Vec<String> {
    let wanted = facts.allow_scheduling_on_control_planes;
    facts
        .nodes
        .iter()
        .filter(|(_, role)| role == "controlplane")
        .filter_map(|(name, _)| report.rendered.get(name).map(|config| (name, config)))
        .filter(|(_, config)| control_plane_schedulable(config) != wanted)
        .map(|(name, _)| {
            format!(
                "{fixture} on v1.{minor}: {name}: the intent says allowSchedulingOnControlPlanes: \
                 {wanted}, the config Talos renders says the opposite"
            )
        })
        .collect()
}

/// Builds `intent` retargeted to `dialect` and runs the oracle on the output. `Ok(report)`,
/// or `Err(why talhorn refuses to build it)`: a fixture intent that talhorn refuses for some
/// minor (an extension or engine that minor lacks) is skipped there, printed, because there is
/// no output to check. The native minor of each fixture must always build.
fn check_intent(
    oracle: &Path,
    intent: &Path,
    text: &str,
    facts: &IntentFacts,
    dialect: &Dialect,
) -> Result<OracleReport, String> {
    let version = dialect.latest_version().to_string();
    let retargeted = retarget(text, &version, facts.native_minor, dialect.minor);
    let artifacts = try_build(intent, &retargeted)?;
    let out = write_into_temp_dir(intent, &artifacts);
    let talos = out.path().join("talos");
    let kubernetes = match &facts.kubernetes {
        Some(k) if dialect.minor == facts.native_minor => k.clone(),
        _ => dialect.default_kubernetes.to_string(),
    };
    let request = OracleRequest {
        cluster_name: facts.name.clone(),
        endpoint: facts.endpoint.clone(),
        talos_version: version,
        kubernetes_version: kubernetes,
        controlplane_patches: vec![talos.join("controlplane.yaml")],
        worker_patches: vec![talos.join("worker.yaml")],
        nodes: facts
            .nodes
            .iter()
            .map(|(name, role)| OracleNode {
                name: name.clone(),
                role: role.clone(),
                patches: vec![talos.join(format!("nodes/{name}.yaml"))],
            })
            .collect(),
    };
    Ok(run_oracle(&oracle_for(oracle, dialect.minor), &request))
}

/// Splits problems into unexpected ones and the allowlist entries they matched.
fn triage(fixture: &str, minor: u32, problems: Vec<String>, used: &mut [bool]) -> Vec<String> {
    let mut unexpected = Vec::new();
    for problem in problems {
        let known = KNOWN_ORACLE_FAILURES.iter().position(|(f, m, needle, _)| {
            (*f == "*" || *f == fixture) && (*m == 0 || *m == minor) && problem.contains(needle)
        });
        match known {
            Some(i) => {
                used[i] = true;
                eprintln!("known oracle failure #{i} {fixture} v1.{minor}: {problem}");
            }
            None => unexpected.push(format!("{fixture} on v1.{minor}: {problem}")),
        }
    }
    unexpected
}

/// One fixture intent's oracle results: (fixture, its facts, per minor: the oracle's report, or
/// why talhorn refuses to build it for that minor).
type IntentResults = (
    String,
    IntentFacts,
    Vec<(u32, Result<OracleReport, String>)>,
);

#[test]
fn every_fixture_intent_passes_the_oracle_for_every_minor() {
    let Some(oracle) = oracle_dir() else { return };
    // One thread per intent (the oracle runs are processes); results are read in order.
    let results: Vec<IntentResults> = std::thread::scope(|scope| {
        let handles: Vec<_> = fixture_intents()
            .into_iter()
            .map(|intent| {
                scope.spawn(move || {
                    let text = std::fs::read_to_string(&intent)
                        .unwrap_or_else(|e| panic!("{}: {e}", intent.display()));
                    let facts = intent_facts(&intent, &text);
                    let per_minor = DIALECTS
                        .iter()
                        .map(|d| (d.minor, check_intent(oracle, &intent, &text, &facts, d)))
                        .collect();
                    (fixture_name(&intent), facts, per_minor)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an oracle thread panicked"))
            .collect()
    });
    let mut failures = Vec::new();
    let mut used = vec![false; KNOWN_ORACLE_FAILURES.len()];
    let mut checked = 0;
    let mut schedulable_checked = 0;
    for (fixture, facts, per_minor) in results {
        for (minor, result) in per_minor {
            match result {
                Ok(report) => {
                    checked += 1;
                    schedulable_checked += usize::from(facts.allow_scheduling_on_control_planes);
                    failures.extend(scheduling_mismatches(&fixture, minor, &facts, &report));
                    failures.extend(triage(&fixture, minor, report.problems, &mut used));
                }
                Err(why) if minor == facts.native_minor => {
                    panic!("{fixture} does not build for its own Talos version: {why}")
                }
                Err(why) => {
                    let first = why.lines().next().unwrap_or_default();
                    eprintln!(
                        "note: {fixture} not checked on v1.{minor}: talhorn refuses it ({first} ...)"
                    );
                }
            }
        }
    }
    for (i, entry) in KNOWN_ORACLE_FAILURES.iter().enumerate() {
        if used[i] {
            eprintln!("known oracle failure #{i} allowed because: {}", entry.3);
        }
    }
    let stale: Vec<_> = KNOWN_ORACLE_FAILURES
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(entry, _)| format!("{entry:?}"))
        .collect();
    assert!(
        stale.is_empty(),
        "KNOWN_ORACLE_FAILURES entries that no longer match (remove them): {stale:#?}"
    );
    assert!(
        failures.is_empty(),
        "Talos rejects talhorn's output ({} problem(s), {checked} builds checked):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Both choices must be exercised, or the scheduling check could not fail.
    assert!(
        schedulable_checked > 0 && schedulable_checked < checked,
        "the fixture intents must include builds with and without allowSchedulingOnControlPlanes \
         ({schedulable_checked} of {checked} allow it)"
    );
    eprintln!("{checked} fixture builds checked by the Talos oracle");
}

// ---------------------------------------------------------------------------------------------
// Differential check of the Talos rules against the oracle.

/// Rules whose firing fixtures say "Talos rejects this" (when the finding is an error): the
/// oracle must reject those fixtures. An unknown key or a wrong value in a Talos document
/// (INT002, INT003) is Talos's own rejection too.
const CLAIMS_REJECTION: &[&str] = &["TAL003", "TAL008", "TAL009", "TAL018", "INT002", "INT003"];

/// The codes whose fixtures with Talos patches the oracle judges: the Talos rules, and the
/// checks every Talos document gets against its version's schema.
fn judged_by_the_oracle(code: &str) -> bool {
    code.starts_with("TAL") || code == "INT002" || code == "INT003"
}

/// Fixture cases the differential check leaves out: (rule, case, why). Printed when used.
const DIFFERENTIAL_EXCLUSIONS: &[(&str, &str, &str)] = &[
    (
        "TAL008",
        "fires-machine-install-on-1.14",
        "the rejection comes from the UnattendedInstallConfig that v1.14.0-rc.1 generates; the 1.14 \
         oracle (machinery v1.14.0-alpha.2, newest on the Go proxy) predates it",
    ),
    (
        "TAL008",
        "silent-unattended-install-on-1.14",
        "machinery v1.14.0-alpha.2 (newest on the Go proxy) does not know UnattendedInstallConfig",
    ),
];

/// The Talos version a rule fixture targets: the first installer tag (`…:v1.12.11`) in its
/// Talos files, else the intent's `cluster.talos`.
fn fixture_talos_version(case: &Path, files: &[PathBuf]) -> Option<String> {
    let from_tag = files.iter().find_map(|file| {
        let text = std::fs::read_to_string(file).ok()?;
        let start = text.find(":v1.")? + 1;
        let tag: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        Some(tag)
    });
    from_tag.or_else(|| {
        let text = std::fs::read_to_string(case.join("cluster.yaml")).ok()?;
        let root = talhorn::yaml::parse_document(&text).ok()?;
        root.path(&["cluster", "talos"])
            .and_then(talhorn::yaml::Node::scalar_text)
    })
}

/// The rule fixture's findings of `code` and the Talos nodes the linter saw (name, role).
fn lint_case(code: &str, case: &Path) -> (bool, Vec<(String, Option<talhorn::model::Role>)>) {
    let config = talhorn::rules::LintConfig {
        root: case.to_path_buf(),
        ..talhorn::rules::LintConfig::default()
    };
    let outcome = talhorn::lint::lint_paths(&[case.to_path_buf()], &config)
        .unwrap_or_else(|e| panic!("{}: lint failed: {e}", case.display()));
    let error = outcome
        .findings
        .iter()
        .any(|f| f.code == code && f.severity == talhorn::finding::Severity::Error);
    // The models the lint checked (it drops each once checked).
    let models = talhorn::ingest::ingest(&[case.to_path_buf()], &config)
        .unwrap_or_else(|e| panic!("{}: read failed: {e}", case.display()));
    let nodes = models
        .clusters
        .iter()
        .flat_map(|c| &c.cluster.talos.nodes)
        .map(|n| (n.name.clone(), n.role))
        .collect();
    (error, nodes)
}

/// What the oracle says about one rule fixture: `Err(why it cannot be checked)` or the
/// problems (empty when Talos accepts it).
fn oracle_on_fixture(oracle: &Path, code: &str, case: &Path) -> Result<Vec<String>, String> {
    let talos = case.join("talos");
    let role_file = |name: &str| {
        let path = talos.join(name);
        path.is_file().then_some(path)
    };
    let controlplane = role_file("controlplane.yaml");
    let worker = role_file("worker.yaml");
    let mut node_files: Vec<PathBuf> = std::fs::read_dir(talos.join("nodes"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    node_files.sort();
    if controlplane.is_none() && worker.is_none() && node_files.is_empty() {
        return Err("no Talos patches under talos/".into());
    }
    let all_files: Vec<PathBuf> = controlplane
        .iter()
        .chain(worker.iter())
        .chain(node_files.iter())
        .cloned()
        .collect();
    let version = fixture_talos_version(case, &all_files)
        .ok_or("no Talos version (installer tag or intent)")?;
    let parsed = talhorn::knowledge::talos::TalosVersion::parse(&version)
        .map_err(|e| format!("Talos version: {e}"))?;
    let (_, linted_nodes) = lint_case(code, case);
    let role_of = |name: &str| {
        let role = linted_nodes
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, role)| *role);
        role.unwrap_or(talhorn::model::Role::Worker)
            .as_str()
            .to_string()
    };
    let mut nodes: Vec<OracleNode> = node_files
        .iter()
        .map(|file| {
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            OracleNode {
                role: role_of(&name),
                name,
                patches: vec![file.clone()],
            }
        })
        .collect();
    // Role patches without node patches: one node of that role with nothing of its own.
    for (role, file) in [("controlplane", &controlplane), ("worker", &worker)] {
        if file.is_some() && nodes.iter().all(|n| n.role != role) {
            nodes.push(OracleNode {
                name: format!("{role}-only"),
                role: role.to_string(),
                patches: Vec::new(),
            });
        }
    }
    let request = OracleRequest {
        cluster_name: "fixture".into(),
        endpoint: "https://10.20.0.10:6443".into(),
        talos_version: version,
        kubernetes_version: String::new(),
        controlplane_patches: controlplane.into_iter().collect(),
        worker_patches: worker.into_iter().collect(),
        nodes,
    };
    Ok(run_oracle(&oracle_for(oracle, parsed.minor), &request).problems)
}

#[test]
fn talos_rule_fixtures_agree_with_the_oracle() {
    let Some(oracle) = oracle_dir() else { return };
    let mut disagreements = Vec::new();
    let mut compared = 0;
    let root = repo().join("fixtures/rules");
    for meta in talhorn::rules::all_meta()
        .into_iter()
        .filter(|m| judged_by_the_oracle(m.code))
    {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join(meta.code))
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        cases.sort();
        for case in cases {
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let label = format!("{}/{name}", meta.code);
            if let Some((_, _, why)) = DIFFERENTIAL_EXCLUSIONS
                .iter()
                .find(|(code, c, _)| *code == meta.code && *c == name)
            {
                eprintln!("note: {label} left out of the differential check: {why}");
                continue;
            }
            let claims_rejection = name.starts_with("fires")
                && CLAIMS_REJECTION.contains(&meta.code)
                && lint_case(meta.code, &case).0;
            let must_accept = name.starts_with("silent");
            if !claims_rejection && !must_accept {
                continue;
            }
            let problems = match oracle_on_fixture(oracle, meta.code, &case) {
                Ok(problems) => problems,
                Err(why) => {
                    eprintln!("note: {label} not checked by the oracle: {why}");
                    continue;
                }
            };
            compared += 1;
            if claims_rejection && problems.is_empty() {
                disagreements.push(format!(
                    "{label}: the rule says Talos rejects it, the oracle accepts it"
                ));
            }
            if must_accept && !problems.is_empty() {
                disagreements.push(format!(
                    "{label}: silent fixture, but Talos rejects it:\n    {}",
                    problems.join("\n    ")
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "the Talos rules and the oracle disagree ({} of {compared} fixtures):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    eprintln!("{compared} Talos rule fixtures agree with the oracle");
}
