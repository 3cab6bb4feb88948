//! `talhorn build`, `init`, `schema` and `schematic` through the binary: exit codes, what is
//! written, drift detection, refusals and error locations.

mod build_support;

use build_support::{files_under, repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn talhorn(dir: &Path, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_talhorn"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run talhorn: {e}"));
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A temporary directory holding the README example as `cluster.yaml`, with `edit` applied.
fn workspace(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let example = std::fs::read_to_string(repo().join("examples/homelab.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let edited = edit(example.clone());
    std::fs::write(dir.path().join("cluster.yaml"), edited).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// Replaces exactly one occurrence, so a fixture edit cannot silently miss.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
    text.replacen(from, to, 1)
}

fn build(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["build", "cluster.yaml", "-o", "out"];
    args.extend_from_slice(extra);
    talhorn(dir, &args)
}

#[test]
fn build_writes_the_whole_tree_and_check_passes_on_it() {
    let dir = workspace(|t| t);
    let run = build(dir.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = dir.path().join("out");
    let files = files_under(&out);
    for expected in [
        "RUNBOOK.md",
        "proxmox/101-cp-1.conf",
        "proxmox/203-w-3.conf",
        "proxmox/create-vms.sh",
        "talos/schematic.yaml",
        "talos/controlplane.yaml",
        "talos/worker.yaml",
        "talos/nodes/w-1.yaml",
        "kubernetes/longhorn/namespace.yaml",
        "kubernetes/longhorn/values.yaml",
        "kubernetes/longhorn/helmrelease.yaml",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} missing: {files:?}"
        );
    }
    assert!(out.join(talhorn::write::MANIFEST_NAME).is_file());

    let check = build(dir.path(), &["--check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stderr.contains("up to date"), "{}", check.stderr);
}

#[test]
fn two_processes_write_identical_trees() {
    // Separate processes get separate hash seeds: catches HashMap-order output.
    let first = workspace(|t| t);
    let second = workspace(|t| t);
    assert_eq!(build(first.path(), &[]).code, 0);
    assert_eq!(build(second.path(), &[]).code, 0);
    let (a, b) = (first.path().join("out"), second.path().join("out"));
    let files = files_under(&a);
    assert_eq!(files, files_under(&b));
    for file in files {
        assert_eq!(
            std::fs::read(a.join(&file)).ok(),
            std::fs::read(b.join(&file)).ok(),
            "{file} differs between runs"
        );
    }
}

#[test]
fn a_hand_edit_is_drift_and_is_not_overwritten_without_force() {
    let dir = workspace(|t| t);
    assert_eq!(build(dir.path(), &[]).code, 0);
    let edited = dir.path().join("out/talos/worker.yaml");
    let original = std::fs::read_to_string(&edited).unwrap_or_default();
    let hand_edited = format!("{original}# tuned by hand\n");
    std::fs::write(&edited, &hand_edited).unwrap_or_else(|e| panic!("{e}"));

    let check = build(dir.path(), &["--check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(
        check.stderr.contains("talos/worker.yaml"),
        "{}",
        check.stderr
    );

    let diff = build(dir.path(), &["--diff"]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(
        diff.stdout.contains("--- a/talos/worker.yaml"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout.contains("+++ b/talos/worker.yaml"),
        "{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("@@ "), "{}", diff.stdout);
    assert!(diff.stdout.contains("-# tuned by hand"), "{}", diff.stdout);

    let refused = build(dir.path(), &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("talos/worker.yaml"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap_or_default(),
        hand_edited,
        "the hand edit was overwritten"
    );

    let forced = build(dir.path(), &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap_or_default(),
        original
    );
    assert_eq!(build(dir.path(), &["--check"]).code, 0);
}

/// A broken intent: exit 2, a `cluster.yaml:LINE:COL` location, the expected message, and no
/// output directory.
fn assert_rejected(edit: impl FnOnce(String) -> String, location: &str, message: &str) {
    let dir = workspace(edit);
    let run = build(dir.path(), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cluster.yaml:{location}")),
        "expected cluster.yaml:{location} in:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(message),
        "expected `{message}` in:\n{}",
        run.stderr
    );
    assert!(!dir.path().join("out").exists(), "something was written");
}

#[test]
fn a_yaml_syntax_error_is_located() {
    assert_rejected(
        |t| replace_once(&t, "  engine: v1\n", "  engine: v1: x\n"),
        "33:13",
        "not valid YAML",
    );
}

#[test]
fn an_unknown_key_suggests_the_right_one() {
    assert_rejected(
        |t| replace_once(&t, "  replicas: 3", "  replica: 3"),
        "34:3",
        "did you mean `replicas`?",
    );
}

#[test]
fn a_wrong_type_is_located() {
    assert_rejected(
        |t| replace_once(&t, "  replicas: 3", "  replicas: three"),
        "34:13",
        "longhorn.replicas",
    );
}

/// A shared VMID is PVE019's finding (exit 1), reported with every other problem.
#[test]
fn a_duplicate_vmid_is_located() {
    let dir = workspace(|t| replace_once(&t, "vmid: 102", "vmid: 101"));
    let run = build(dir.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cluster.yaml:44:"), "{}", run.stderr);
    assert!(run.stderr.contains("PVE019"), "{}", run.stderr);
    assert!(!dir.path().join("out").exists(), "something was written");
}

/// A shared address is NET004's finding (exit 1, like any error finding), not a load error that
/// would stop the other rules.
#[test]
fn a_duplicate_ip_is_located() {
    let dir = workspace(|t| replace_once(&t, "ip: 10.20.0.12,", "ip: 10.20.0.11,"));
    let run = build(dir.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cluster.yaml:44:"), "{}", run.stderr);
    assert!(run.stderr.contains("NET004"), "{}", run.stderr);
    assert!(!dir.path().join("out").exists(), "something was written");
}

#[test]
fn an_ip_outside_the_subnet_is_located() {
    assert_rejected(
        |t| replace_once(&t, "ip: 10.20.0.12,", "ip: 10.30.0.12,"),
        "44:",
        "outside the cluster subnet 10.20.0.0/24",
    );
}

#[test]
fn a_too_old_talos_is_rejected() {
    assert_rejected(
        |t| replace_once(&t, "talos: v1.11.6", "talos: v1.8.3"),
        "8:10",
        "older than talhorn supports",
    );
}

/// Every generated file keyed by path, with `from` replaced by `to` in the content.
fn tree(out: &Path, from: &str, to: &str) -> Vec<(String, String)> {
    files_under(out)
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(out.join(&f)).unwrap_or_default();
            (f, text.replace(from, to))
        })
        .collect()
}

#[test]
fn a_newer_talos_warns_and_uses_the_newest_dialect() {
    let newer = workspace(|t| replace_once(&t, "talos: v1.11.6", "talos: v1.15.0"));
    let run = build(newer.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning"), "{}", run.stderr);
    assert!(run.stderr.contains("cluster.yaml:8:10"), "{}", run.stderr);
    assert!(
        run.stderr.contains("newer than talhorn knows"),
        "{}",
        run.stderr
    );

    // Apart from the version string, the output is exactly the newest dialect's (v1.14).
    let newest = workspace(|t| replace_once(&t, "talos: v1.11.6", "talos: v1.14.0-rc.1"));
    assert_eq!(build(newest.path(), &[]).code, 0);
    assert_eq!(
        tree(&newer.path().join("out"), "v1.15.0", "VERSION"),
        tree(&newest.path().join("out"), "v1.14.0-rc.1", "VERSION")
    );
}

#[test]
fn only_talos_writes_only_the_talos_directory() {
    let dir = workspace(|t| t);
    let run = build(dir.path(), &["--only", "talos"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let files = files_under(&dir.path().join("out"));
    assert!(!files.is_empty());
    assert!(files.iter().all(|f| f.starts_with("talos/")), "{files:?}");
    assert!(
        files.iter().any(|f| f == "talos/nodes/cp-1.yaml"),
        "{files:?}"
    );
}

#[test]
fn node_writes_only_that_nodes_files() {
    let dir = workspace(|t| t);
    let run = build(dir.path(), &["--node", "w-1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let files = files_under(&dir.path().join("out"));
    assert_eq!(files, ["proxmox/201-w-1.conf", "talos/nodes/w-1.yaml"]);

    let unknown = build(dir.path(), &["--node", "w-9"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("w-9"), "{}", unknown.stderr);
}

#[test]
fn init_writes_a_starter_that_builds_cleanly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let init = talhorn(dir.path(), &["init", "cluster.yaml"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let run = build(dir.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning["), "{}", run.stderr);
    assert!(!run.stderr.contains("error["), "{}", run.stderr);
    assert!(!files_under(&dir.path().join("out")).is_empty());
    // init refuses to overwrite the intent it wrote.
    assert_eq!(talhorn(dir.path(), &["init", "cluster.yaml"]).code, 2);
}

#[test]
fn schema_prints_the_intent_json_schema() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = talhorn(dir.path(), &["schema"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let schema: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON: {e}"));
    assert!(
        jsonschema::validator_for(&schema).is_ok(),
        "not a usable JSON schema"
    );
    let shipped: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/intent.schema.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    assert_eq!(schema, shipped);
}

#[test]
fn schematic_prints_the_id_that_build_writes() {
    let dir = workspace(|t| t);
    let run = talhorn(dir.path(), &["schematic", "cluster.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap_or_else(|| panic!("no `id:` line in:\n{}", run.stdout))
        .to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_eq!(build(dir.path(), &[]).code, 0);
    let written: PathBuf = dir.path().join("out/talos/schematic.yaml");
    let text = std::fs::read_to_string(written).unwrap_or_default();
    assert!(text.contains(&format!("# ID: {id}\n")), "{text}");
}
