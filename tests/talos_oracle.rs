//! Talos's own validator as the oracle (`tools/talos-oracle/`, Go, built per supported Talos
//! minor against that minor's `github.com/siderolabs/talos/pkg/machinery`).
//!
//! - Every fixture intent (and the README example) is built for every supported Talos minor;
//!   the oracle does what the RUNBOOK does (gen config with the version contract and the role
//!   patches, then each node patch) and validates every rendered node config like `talosctl
//!   validate --mode metal --strict`. Any problem fails the test.
//! - Differential check of the Talos rules: every `fires*` fixture of a rule that claims "Talos
//!   rejects this" is rejected by the oracle, every `silent*` TAL fixture is accepted.
//!
//! Needs Go (and the Go module proxy for the first build). Without `go` the tests print a note
//! and pass, unless `CI` is set: then they fail. `TALOS_ORACLE_DIR` may point at binaries built
//! by `tools/talos-oracle/build.sh` to skip the build.

mod build_support;

use build_support::{fixture_intents, fixture_name, repo, try_build, write_into_temp_dir};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use talhorn::knowledge::talos::{DIALECTS, Dialect};

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

/// A problem the oracle reported, as one line: `node (stage): message`.
fn run_oracle(binary: &Path, request: &OracleRequest) -> Vec<String> {
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
    assert_eq!(
        checked,
        request.nodes.len(),
        "the oracle checked fewer nodes than asked: {report}"
    );
    let problems: Vec<String> = report["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let node = p["node"].as_str().unwrap_or("(all)");
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
    problems
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
    }
}

/// Builds `intent` retargeted to `dialect` and runs the oracle on the output. `Ok(problems)`,
/// or `Err(why talhorn refuses to build it)`: a fixture intent that talhorn refuses for some
/// minor (an extension or engine that minor lacks) is skipped there, printed, because there is
/// no output to check. The native minor of each fixture must always build.
fn check_intent(
    oracle: &Path,
    intent: &Path,
    text: &str,
    facts: &IntentFacts,
    dialect: &Dialect,
) -> Result<Vec<String>, String> {
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
                eprintln!(
                    "known oracle failure {fixture} v1.{minor}: {problem}\n  allowed because: {}",
                    KNOWN_ORACLE_FAILURES[i].3
                );
            }
            None => unexpected.push(format!("{fixture} on v1.{minor}: {problem}")),
        }
    }
    unexpected
}

#[test]
fn every_fixture_intent_passes_the_oracle_for_every_minor() {
    let Some(oracle) = oracle_dir() else { return };
    let mut failures = Vec::new();
    let mut used = vec![false; KNOWN_ORACLE_FAILURES.len()];
    let mut checked = 0;
    for intent in fixture_intents() {
        let text = std::fs::read_to_string(&intent)
            .unwrap_or_else(|e| panic!("{}: {e}", intent.display()));
        let facts = intent_facts(&intent, &text);
        let fixture = fixture_name(&intent);
        for dialect in DIALECTS {
            match check_intent(oracle, &intent, &text, &facts, dialect) {
                Ok(problems) => {
                    checked += 1;
                    failures.extend(triage(&fixture, dialect.minor, problems, &mut used));
                }
                Err(why) if dialect.minor == facts.native_minor => {
                    panic!("{fixture} does not build for its own Talos version: {why}")
                }
                Err(why) => {
                    let first = why.lines().next().unwrap_or_default();
                    eprintln!(
                        "note: {fixture} not checked on v1.{}: talhorn refuses it ({first} ...)",
                        dialect.minor
                    );
                }
            }
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
    eprintln!("{checked} fixture builds accepted by the Talos oracle");
}
