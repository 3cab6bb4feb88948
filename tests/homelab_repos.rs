//! The two realistic repositories: a clean homelab (no error, no warning) and a broken one with
//! many planted mistakes across every layer (the exact set of findings).

use std::path::{Path, PathBuf};
use talhorn::finding::Severity;
use talhorn::lint::{LintOutcome, lint_paths};
use talhorn::rules::LintConfig;

fn lint(repo: &str) -> (PathBuf, LintOutcome) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/repos")
        .join(repo);
    let config = match LintConfig::discover(&root) {
        Some(file) => LintConfig::load(&file).expect("the fixture's .talhorn.yaml loads"),
        None => LintConfig {
            root: root.clone(),
            ..LintConfig::default()
        },
    };
    let outcome = lint_paths(std::slice::from_ref(&root), &config).expect("lint runs");
    (root, outcome)
}

fn place(outcome: &LintOutcome, root: &Path, at: talhorn::source::Location) -> String {
    let file = outcome.sources.get(at.file);
    let (line, _) = file.line_col(at.span.start);
    let path = file.path.strip_prefix(root).unwrap_or(&file.path);
    format!("{}:{line}", path.display())
}

#[test]
fn the_clean_homelab_has_no_error_or_warning() {
    let (root, outcome) = lint("clean-homelab");
    assert_eq!(outcome.clusters.len(), 1, "one repository, one cluster");
    // A lint checks each model and drops it: the model comes from the same read of the files.
    let config = LintConfig {
        root: root.clone(),
        ..LintConfig::default()
    };
    let models = talhorn::ingest::ingest(std::slice::from_ref(&root), &config).expect("reads");
    let cluster = &models.clusters[0].cluster;
    assert!(cluster.vms.len() >= 2 && !cluster.talos.nodes.is_empty());
    let loud: Vec<String> = outcome
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("{} {} {}", f.code, place(&outcome, &root, f.at), f.message))
        .collect();
    assert!(loud.is_empty(), "{loud:#?}");
}

/// Every mistake planted in `fixtures/repos/broken-homelab`, as (code, path:line).
const BROKEN: &[(&str, &str)] = &[
    ("NET002", "kubernetes/cilium/application.yaml:16"),
    ("LHN006", "kubernetes/longhorn/helmrelease.yaml:2"),
    ("LHN007", "kubernetes/longhorn/helmrelease.yaml:2"),
    ("LHN001", "kubernetes/longhorn/namespace.yaml:3"),
    ("INT002", "kubernetes/longhorn/values.yaml:1"),
    ("LHN005", "kubernetes/longhorn/values.yaml:4"),
    ("LHN002", "kubernetes/longhorn/values.yaml:5"),
    ("LHN010", "kubernetes/longhorn/values.yaml:5"),
    ("LHN002", "kubernetes/longhorn/values.yaml:7"),
    ("PVE001", "proxmox/101-cp-1.conf:1"),
    ("PVE004", "proxmox/101-cp-1.conf:1"),
    ("PVE005", "proxmox/101-cp-1.conf:1"),
    ("PVE012", "proxmox/101-cp-1.conf:1"),
    ("PVE018", "proxmox/101-cp-1.conf:3"),
    ("PVE002", "proxmox/101-cp-1.conf:4"),
    ("PVE017", "proxmox/101-cp-1.conf:5"),
    ("PVE009", "proxmox/101-cp-1.conf:9"),
    ("INT003", "proxmox/101-cp-1.conf:10"),
    ("PVE007", "proxmox/101-cp-1.conf:10"),
    ("PVE011", "proxmox/101-cp-1.conf:11"),
    ("PVE004", "proxmox/201-w-1.conf:2"),
    ("PVE013", "proxmox/201-w-1.conf:3"),
    ("PVE006", "proxmox/201-w-1.conf:4"),
    ("PVE001", "proxmox/201-w-1.conf:5"),
    ("PVE005", "proxmox/201-w-1.conf:7"),
    ("NET001", "proxmox/201-w-1.conf:9"),
    ("PVE003", "proxmox/201-w-1.conf:11"),
    ("PVE010", "proxmox/201-w-1.conf:11"),
    ("INT003", "proxmox/201-w-1.conf:11"),
    ("PVE009", "proxmox/201-w-1.conf:11"),
    ("PVE007", "proxmox/201-w-1.conf:12"),
    ("TAL003", "talos/controlplane.yaml:1"),
    ("TAL006", "talos/controlplane.yaml:5"),
    ("TAL013", "talos/nodes/w-1.yaml:7"),
    ("INT001", "talos/nodes/w-2.yaml:4"),
    ("TAL001", "talos/schematic.yaml:4"),
    ("TAL002", "talos/schematic.yaml:4"),
    ("TAL015", "talos/worker.yaml:1"),
    ("TAL016", "talos/worker.yaml:4"),
    ("TAL005", "talos/worker.yaml:10"),
    ("TAL003", "talos/worker.yaml:12"),
];

#[test]
fn the_broken_homelab_gives_exactly_its_planted_findings() {
    let (root, outcome) = lint("broken-homelab");
    let mut got: Vec<(String, String)> = outcome
        .findings
        .iter()
        .map(|f| (f.code.to_string(), place(&outcome, &root, f.at)))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = BROKEN
        .iter()
        .map(|(c, p)| ((*c).to_string(), (*p).to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn cross_layer_findings_point_at_both_layers() {
    let (root, outcome) = lint("broken-homelab");
    let cross_file = outcome
        .findings
        .iter()
        .filter(|f| f.related.iter().any(|r| r.at.file != f.at.file))
        .map(|f| {
            let related: Vec<String> = f
                .related
                .iter()
                .map(|r| place(&outcome, &root, r.at))
                .collect();
            format!("{} {} ↔ {related:?}", f.code, place(&outcome, &root, f.at))
        })
        .collect::<Vec<_>>();
    assert!(
        cross_file.iter().any(|f| f.starts_with("NET"))
            && cross_file
                .iter()
                .any(|f| f.starts_with("TAL") || f.starts_with("LHN")),
        "expected network and Talos/Longhorn findings with related locations in other files: {cross_file:#?}"
    );
}
