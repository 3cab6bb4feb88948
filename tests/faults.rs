#![cfg(unix)]
//! Faults around the input: unreadable files, symlink loops and YAML budget breaches are
//! reported as located INT001 findings while the rest of the tree is still linted; `build` into
//! an output path that is a file fails cleanly.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use talhorn::finding::Finding;
use talhorn::rules::LintConfig;
use tempfile::TempDir;

/// The binary under test. `TALHORN_BIN` overrides it: a target directory shared between
/// branches may hold another branch's build at `CARGO_BIN_EXE_talhorn`.
fn talhorn_bin() -> PathBuf {
    std::env::var_os("TALHORN_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_talhorn").into(), PathBuf::from)
}

/// A VM config that PVE001 (cpu absent = kvm64) reports: proof that the file was linted.
const KVM64_VM: &str = "cores: 2\nmemory: 4096\nname: w-1\n";

fn lint(root: &Path) -> (talhorn::lint::LintOutcome, Vec<Finding>) {
    let config = LintConfig {
        root: root.to_path_buf(),
        ..LintConfig::default()
    };
    let outcome = talhorn::lint::lint_paths(&[root.to_path_buf()], &config)
        .expect("an existing directory always lints");
    let findings = outcome.findings.clone();
    (outcome, findings)
}

fn path_of(outcome: &talhorn::lint::LintOutcome, finding: &Finding) -> PathBuf {
    outcome.sources.get(finding.at.file).path.to_path_buf()
}

fn line_of(outcome: &talhorn::lint::LintOutcome, finding: &Finding) -> usize {
    let file = outcome.sources.get(finding.at.file);
    file.line_col(finding.at.span.start).0
}

fn write(root: &Path, rel: &str, content: &str) -> PathBuf {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, content).unwrap();
    path
}

/// Whether this process can read a file it made unreadable (root can).
fn permissions_are_enforced(path: &Path) -> bool {
    fs::read(path).is_err()
}

#[test]
fn an_unreadable_file_is_reported_and_the_rest_still_linted() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    let secret = write(root, "qemu-server/100.conf", KVM64_VM);
    write(root, "qemu-server/101.conf", KVM64_VM);
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
    if !permissions_are_enforced(&secret) {
        eprintln!("note: running as root, file permissions are not enforced; skipping");
        return;
    }
    let (outcome, findings) = lint(root);
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.code == "INT001" && path_of(&outcome, f) == secret),
        "the unreadable file is reported: {findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.code == "PVE001" && path_of(&outcome, f).ends_with("101.conf")),
        "the readable file is still linted: {findings:?}"
    );
}

#[test]
fn a_symlink_loop_is_reported_and_the_rest_still_linted() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(root, "qemu-server/101.conf", KVM64_VM);
    let a = root.join("qemu-server/loop-a.conf");
    let b = root.join("qemu-server/loop-b.conf");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let (outcome, findings) = lint(root);
    for link in [&a, &b] {
        assert!(
            findings
                .iter()
                .any(|f| f.code == "INT001" && &path_of(&outcome, f) == link),
            "{} is reported: {findings:?}",
            link.display()
        );
    }
    assert!(
        findings
            .iter()
            .any(|f| f.code == "PVE001" && path_of(&outcome, f).ends_with("101.conf")),
        "the real file is still linted: {findings:?}"
    );
}

/// Lints one Talos file and returns the INT001 findings' (line, message).
fn budget_findings(content: &str) -> Vec<(usize, String)> {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "talos/worker.yaml", content);
    let (outcome, findings) = lint(dir.path());
    findings
        .iter()
        .filter(|f| f.code == "INT001")
        .map(|f| (line_of(&outcome, f), f.message.clone()))
        .collect()
}

#[test]
fn nesting_deeper_than_the_budget_is_a_located_int001() {
    let depth = talhorn::yaml::MAX_DEPTH * 2;
    let text = format!(
        "machine:\n  install:\n    x: {}1{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let found = budget_findings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 3, "points at the nested value: {found:?}");
}

#[test]
fn nested_mappings_deeper_than_the_budget_are_said_in_the_files_terms() {
    let depth = talhorn::yaml::MAX_DEPTH + 1;
    let text = format!(
        "machine:\n  x: {}1{}\n",
        "{a: ".repeat(depth),
        "}".repeat(depth)
    );
    let found = budget_findings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].1.contains("nests deeper than 128 levels") && !found[0].1.contains("Depth {"),
        "says what is wrong in the file's terms, not the parser's: {found:?}"
    );
}

#[test]
fn an_alias_bomb_is_a_located_int001() {
    let mut text =
        String::from("machine:\n  install: {}\nbomb:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 10].join(", ");
        text.push_str(&format!("  {}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    let found = budget_findings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].0 > 4,
        "points at an alias line, not the file start: {found:?}"
    );
    assert!(
        found[0]
            .1
            .contains("more than 250000 values (an alias counts each time")
            && found[0].1.contains("write out what is repeated")
            && !found[0].1.contains('{'),
        "says what is wrong in the file's terms, and what to do: {found:?}"
    );
}

#[test]
fn too_many_aliases_is_an_int001_in_the_files_terms() {
    let mut text = String::from("machine:\n  install: {}\nrefs:\n  - &a x\n");
    text.push_str(&"  - *a\n".repeat(1_001));
    let found = budget_findings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].1.contains("more than 1000 aliases (`*name`)") && !found[0].1.contains('{'),
        "{found:?}"
    );
}

#[test]
fn a_file_over_the_size_budget_is_an_int001_at_its_start() {
    let mut text = String::from("machine:\n  install: {}\n");
    let comment = format!("# {}\n", "x".repeat(4094));
    while text.len() <= talhorn::yaml::MAX_YAML_BYTES {
        text.push_str(&comment);
    }
    let found = budget_findings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 1, "{found:?}");
}

#[test]
fn build_into_an_output_path_that_is_a_file_exits_2_and_leaves_it_untouched() {
    let dir = TempDir::new().unwrap();
    let intent =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab.yaml"))
            .unwrap();
    fs::write(dir.path().join("cluster.yaml"), intent).unwrap();
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, "not a directory\n").unwrap();
    let output = Command::new(talhorn_bin())
        .args(["build", "cluster.yaml", "-o", "not-a-dir"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not-a-dir"),
        "the message names the path: {stderr}"
    );
    assert_eq!(fs::read_to_string(&blocker).unwrap(), "not a directory\n");
}

#[test]
fn nesting_within_the_budget_parses_on_a_small_thread_stack() {
    // Thread pools and test threads have small stacks; the YAML reader must not overflow them
    // on input its depth budget accepts (a stack overflow aborts the process).
    let depth = talhorn::yaml::MAX_DEPTH - 2;
    let text = format!("x: {}1{}\n", "{a: ".repeat(depth), "}".repeat(depth));
    let parsed = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || talhorn::yaml::parse_documents(&text).map(|docs| docs.len()))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(parsed, Ok(1));
}
