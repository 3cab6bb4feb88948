//! One repository, many clusters: every cross-file rule joins facts of one cluster only, so a
//! cluster folder linted alone gives exactly the findings the whole repository gives for it.
//!
//! The repository is generated here: 24 cluster folders made from the two realistic homelab
//! fixtures (same VM ids, node names and kubelet mounts in every cluster; a subnet of its own
//! per cluster), rooted in each way talhorn recognises a cluster: an own `.talhorn.yaml`,
//! `clusters/<name>/`, `clusters:` in the top `.talhorn.yaml`, a talhelper `talconfig.yaml`,
//! a Terraform root module. Two Omni templates share a patch folder.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use talhorn::lint::{LintOutcome, lint_paths};
use talhorn::rules::LintConfig;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/repos")
        .join(name)
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// Copies a fixture repository into `to`, giving it the subnet `10.<subnet>.0.0/24`.
/// Replaces the text of the file at `path` with what `edit` makes of it.
fn rewrite(path: &Path, edit: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).expect("read");
    fs::write(path, edit(text)).expect("write");
}

fn copy_cluster(from: &Path, to: &Path, subnet: usize) {
    for entry in walk(from) {
        let relative = entry.strip_prefix(from).expect("inside");
        let text = fs::read_to_string(&entry).expect("read fixture");
        let text = text
            .replace("10.20.0.", &format!("10.{subnet}.0."))
            .replace("192.168.1.", &format!("10.{subnet}.0."));
        write(&to.join(relative), &text);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

const OMNI_PATCH: &str = "machine:\n  kubelet:\n    extraMounts:\n      - destination: /var/mnt/longhorn\n        type: bind\n        source: /var/mnt/longhorn\n        options: [bind, rshared, rw]\n";

/// Builds the repository; returns its root and the cluster folders.
fn repository() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir(root.join(".git")).expect("mkdir .git");
    write(
        &root.join(".talhorn.yaml"),
        "context:\n  proxmox: 9\nclusters: [\"envs/*\"]\n",
    );
    let mut folders = Vec::new();
    for i in 0..24 {
        let source = fixture(if i % 2 == 0 {
            "clean-homelab"
        } else {
            "broken-homelab"
        });
        let folder = match i % 5 {
            0 => root.join(format!("sites/site-{i}")),
            1 => root.join(format!("clusters/c{i}")),
            2 => root.join(format!("envs/env-{i}")),
            3 => root.join(format!("talhelper/t{i}")),
            _ => root.join(format!("terraform/tf{i}")),
        };
        copy_cluster(&source, &folder, 30 + i);
        match i % 5 {
            0 => {
                write(
                    &folder.join(".talhorn.yaml"),
                    "context:\n  proxmox: 8\n  talos: v1.11.6\nexclude: [\"legacy/**\"]\n",
                );
                // Excluded by the cluster's own configuration, also when the whole repository
                // is linted.
                write(
                    &folder.join("legacy/999.conf"),
                    "cpu: kvm64\ncores: 1\nmemory: 512\n",
                );
            }
            3 => write(
                &folder.join("talconfig.yaml"),
                "clusterName: t\ntalosVersion: v1.11.6\nnodes: []\n",
            ),
            4 => write(
                &folder.join("main.tf"),
                "provider \"proxmox\" {\n  endpoint = \"https://pve:8006/\"\n}\n",
            ),
            _ => {}
        }
        folders.push(folder);
    }
    for name in ["prod", "staging"] {
        write(
            &root.join(format!("omni/{name}.yaml")),
            &format!(
                "kind: Cluster\nname: {name}\ntalos:\n  version: v1.11.6\nkubernetes:\n  version: v1.34.1\npatches:\n  - file: patches/{name}-longhorn.yaml\n---\nkind: Workers\nmachines: []\n"
            ),
        );
        write(
            &root.join(format!("omni/patches/{name}-longhorn.yaml")),
            OMNI_PATCH,
        );
    }
    (dir, folders)
}

/// As `talhorn lint PATH` finds it: the nearest `.talhorn.yaml`, and each file's own.
fn config_for(path: &Path) -> LintConfig {
    let mut config = match LintConfig::discover(path) {
        Some(file) => LintConfig::load(&file).expect("config loads"),
        None => LintConfig {
            root: path.to_path_buf(),
            ..LintConfig::default()
        },
    };
    config.per_file = true;
    config
}

fn lint(path: &Path) -> LintOutcome {
    lint_paths(&[path.to_path_buf()], &config_for(path)).expect("lint runs")
}

/// The cluster models a lint of `path` checks (it drops each once checked).
fn models(path: &Path) -> Vec<talhorn::ingest::ClusterInput> {
    talhorn::ingest::ingest(&[path.to_path_buf()], &config_for(path))
        .expect("reads")
        .clusters
}

/// A finding as text: cluster, code, severity, place, message, related places.
fn described(outcome: &LintOutcome) -> Vec<(PathBuf, String)> {
    let place = |at: talhorn::source::Location| {
        let file = outcome.sources.get(at.file);
        let (line, column) = file.line_col(at.span.start);
        (
            file.path.to_path_buf(),
            format!("{}:{line}:{column}", file.path.display()),
        )
    };
    outcome
        .findings
        .iter()
        .map(|f| {
            let (path, at) = place(f.at);
            let related: Vec<String> = f.related.iter().map(|r| place(r.at).1).collect();
            let text = format!(
                "[{}] {} {} {at} {} {related:?}",
                f.cluster.as_deref().unwrap_or("-"),
                f.code,
                f.severity,
                f.message
            );
            (path, text)
        })
        .collect()
}

#[test]
fn each_cluster_folder_alone_gives_what_the_whole_repository_gives_for_it() {
    let (dir, folders) = repository();
    let whole = lint(dir.path());
    let everything = described(&whole);
    let mut seen = 0;
    for folder in &folders {
        let mut from_whole: Vec<&String> = everything
            .iter()
            .filter(|(path, _)| path.starts_with(folder))
            .map(|(_, text)| text)
            .collect();
        let alone = described(&lint(folder));
        let mut from_alone: Vec<&String> = alone.iter().map(|(_, text)| text).collect();
        from_whole.sort();
        from_alone.sort();
        assert_eq!(from_whole, from_alone, "{}", folder.display());
        seen += from_alone.len();
    }
    assert!(seen > 0, "the broken clusters must give findings");
    let clusters: BTreeSet<&str> = whole
        .findings
        .iter()
        .filter_map(|f| f.cluster.as_deref())
        .collect();
    assert!(clusters.len() >= 12, "{clusters:?}");
}

#[test]
fn no_finding_relates_two_clusters() {
    let (dir, folders) = repository();
    let whole = lint(dir.path());
    let cluster_of = |path: &Path| {
        folders
            .iter()
            .find(|f| path.starts_with(f))
            .cloned()
            .or_else(|| path.parent().map(Path::to_path_buf))
    };
    let mut crossing = Vec::new();
    for finding in &whole.findings {
        let own = cluster_of(&whole.sources.get(finding.at.file).path);
        for related in &finding.related {
            let other = cluster_of(&whole.sources.get(related.at.file).path);
            let omni = |p: &Option<PathBuf>| {
                p.as_ref()
                    .is_some_and(|p| p.ends_with("omni") || p.ends_with("patches"))
            };
            if own != other && !(omni(&own) && omni(&other)) {
                crossing.push(format!("{} {}", finding.code, finding.message));
            }
        }
    }
    assert!(crossing.is_empty(), "{crossing:#?}");
    // Every cluster has VMs 101 and 201 and the same kubelet mount: joined, they would be
    // duplicates.
    let codes: BTreeMap<&str, usize> = whole.findings.iter().fold(BTreeMap::new(), |mut m, f| {
        *m.entry(f.code).or_default() += 1;
        m
    });
    assert!(!codes.contains_key("PVE019"), "{codes:?}");
    assert!(!codes.contains_key("TAL012"), "{codes:?}");
}

#[test]
fn each_root_kind_starts_a_cluster_and_omni_templates_are_clusters_with_their_patches() {
    let (dir, folders) = repository();
    let whole = lint(dir.path());
    assert_eq!(
        whole.clusters.len(),
        folders.len() + 2,
        "{:#?}",
        cluster_names(&whole)
    );
    let names = cluster_names(&whole);
    for folder in &folders {
        let relative = folder.strip_prefix(dir.path()).expect("inside");
        assert!(
            names
                .iter()
                .any(|n| n.ends_with(&*relative.to_string_lossy())),
            "{} is not a cluster: {names:#?}",
            relative.display()
        );
    }
    let models = models(dir.path());
    for name in ["prod", "staging"] {
        let template = models
            .iter()
            .find(|c| c.name.ends_with(&format!("omni/{name}.yaml")))
            .unwrap_or_else(|| panic!("omni/{name}.yaml is a cluster: {names:#?}"));
        let mounts: usize = template
            .cluster
            .talos
            .configs
            .iter()
            .map(|c| c.extra_mounts.len())
            .sum();
        assert_eq!(mounts, 1, "the template's own patch, not the other's");
        let version = template
            .cluster
            .versions
            .talos
            .as_ref()
            .map(|v| v.value.as_str());
        assert_eq!(version, Some("v1.11.6"), "the template's Talos version");
    }
}

fn cluster_names(outcome: &LintOutcome) -> Vec<String> {
    outcome.clusters.iter().map(|c| c.name.clone()).collect()
}

#[test]
fn shared_files_belong_to_every_cluster_only_when_declared() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir(root.join(".git")).expect("mkdir .git");
    for name in ["a", "b"] {
        write(
            &root.join(format!("clusters/{name}/talos/worker.yaml")),
            "machine:\n  type: worker\n",
        );
    }
    write(
        &root.join("proxmox/storage.cfg"),
        "dir: local\n\tpath /var/lib/vz\n\tcontent iso\n",
    );
    // The storage.cfg is read for each cluster that holds it.
    let storages = |root: &Path| -> Vec<usize> {
        models(root)
            .iter()
            .map(|c| c.cluster.host.storages.len())
            .collect()
    };
    let undeclared = lint(root);
    assert_eq!(
        cluster_names(&undeclared).len(),
        3,
        "a, b and the repository's own"
    );
    assert_eq!(storages(root).iter().sum::<usize>(), 1);
    write(&root.join(".talhorn.yaml"), "shared: [\"proxmox/*\"]\n");
    let declared = lint(root);
    assert_eq!(
        cluster_names(&declared).len(),
        2,
        "{:?}",
        cluster_names(&declared)
    );
    assert_eq!(storages(root), [1, 1]);
}

#[test]
/// As `--config` does: one configuration replaces the repository's own (as in ruff);
/// `.talhorn.yaml` files are then not discovered, neither at the top nor per cluster.
fn an_explicit_configuration_elsewhere_applies_to_every_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    fs::create_dir_all(repo.join(".git")).expect("mkdir .git");
    write(&repo.join(".talhorn.yaml"), "lint:\n  ignore: [PVE]\n");
    write(
        &repo.join("clusters/a/proxmox/101.conf"),
        "cpu: kvm64\ncores: 2\nmemory: 4096\n",
    );
    write(
        &repo.join("clusters/b/.talhorn.yaml"),
        "lint:\n  ignore: [PVE]\n",
    );
    write(
        &repo.join("clusters/b/proxmox/101.conf"),
        "cpu: kvm64\ncores: 2\nmemory: 4096\n",
    );
    let elsewhere = dir.path().join("ci/talhorn.yaml");
    write(&elsewhere, "lint:\n  select: [PVE001]\n");
    let explicit = LintConfig::load(&elsewhere).expect("config loads");
    let outcome = lint_paths(std::slice::from_ref(&repo), &explicit).expect("lint runs");
    let clusters: Vec<&str> = outcome
        .findings
        .iter()
        .filter(|f| f.code == "PVE001")
        .filter_map(|f| f.cluster.as_deref())
        .collect();
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    assert!(clusters[0].ends_with("clusters/a"), "{clusters:?}");
    assert!(clusters[1].ends_with("clusters/b"), "{clusters:?}");
}

fn talhorn(dir: &Path, args: &[&str]) -> std::process::Output {
    let bin = std::env::var_os("TALHORN_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_talhorn")),
        PathBuf::from,
    );
    std::process::Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the talhorn binary")
}

#[test]
fn json_and_sarif_findings_name_their_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir(root.join(".git")).expect("mkdir .git");
    for name in ["prod", "lab"] {
        write(
            &root.join(format!("clusters/{name}/proxmox/101.conf")),
            "cpu: kvm64\ncores: 2\nmemory: 4096\n",
        );
    }
    let json = talhorn(
        root,
        &["lint", "--select", "PVE001", "--format", "json", "."],
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    let clusters: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["cluster"].as_str())
        .collect();
    assert_eq!(clusters, ["clusters/lab", "clusters/prod"]);
    let sarif = talhorn(
        root,
        &["lint", "--select", "PVE001", "--format", "sarif", "."],
    );
    let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("SARIF report");
    let clusters: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["properties"]["cluster"].as_str())
        .collect();
    assert_eq!(clusters, ["clusters/lab", "clusters/prod"]);
}

/// A single-cluster repository that keeps talhelper in `talos/` and Terraform in `terraform/`
/// (with its provider) is one cluster: the markers in those layer folders make the folder above
/// them the root, so the Longhorn values in `kubernetes/` are joined with the Talos nodes.
/// (Each layer folder used to become a cluster of its own, hiding every cross-layer finding.)
#[test]
fn root_markers_in_layer_folders_make_the_repository_one_cluster() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap_or_else(|e| panic!("{e}"));
    write(
        &root.join("talos/talconfig.yaml"),
        "clusterName: lab\ntalosVersion: v1.11.6\nendpoint: https://10.0.0.11:6443\nnodes:\n  - hostname: w-1\n    ipAddress: 10.0.0.12\n    controlPlane: false\n",
    );
    write(
        &root.join("terraform/main.tf"),
        "provider \"proxmox\" {\n  endpoint = \"https://pve:8006/\"\n}\n",
    );
    write(
        &root.join("kubernetes/longhorn/values.yaml"),
        "defaultSettings:\n  defaultDataPath: /var/lib/longhorn\n",
    );
    let outcome = lint(root);
    let names: Vec<_> = outcome.clusters.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names.len(), 1, "one cluster expected: {names:?}");
}

/// The cluster template's layout keeps talhelper in `kubernetes/bootstrap/talos/` and the apps
/// (Longhorn among them) in `kubernetes/apps/`: `bootstrap/` is a layer folder too, so the root
/// is `kubernetes/` and Longhorn is joined with the Talos nodes (the root used to be
/// `kubernetes/bootstrap/`, which left Longhorn in a cluster of its own: 361 public
/// repositories hold that talconfig path).
#[test]
fn a_talconfig_in_bootstrap_talos_makes_the_folder_above_bootstrap_the_root() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap_or_else(|e| panic!("{e}"));
    write(
        &root.join("kubernetes/bootstrap/talos/talconfig.yaml"),
        "clusterName: lab\ntalosVersion: v1.11.6\nendpoint: https://10.0.0.11:6443\nnodes:\n  - hostname: w-1\n    ipAddress: 10.0.0.12\n    controlPlane: false\n",
    );
    write(
        &root.join("kubernetes/apps/storage/longhorn/values.yaml"),
        "defaultSettings:\n  defaultDataPath: /var/lib/longhorn\n",
    );
    write(&root.join("README.yaml"), "title: lab\n");
    let outcome = lint(root);
    let names: Vec<_> = outcome.clusters.iter().map(|c| c.name.clone()).collect();
    assert!(
        names.iter().any(|n| n.ends_with("kubernetes")),
        "kubernetes/ is the root: {names:?}"
    );
    // Longhorn and the node are compared: the kubelet lacks the data path's mount.
    assert!(
        outcome.findings.iter().any(|f| f.code == "TAL004"),
        "{:#?}",
        outcome.findings
    );
}

/// A repository of two clusters, `clusters/alpha` and `clusters/beta`, each a copy of one
/// fixture that reports TAL006.
fn alpha_and_beta() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir(root.join(".git")).expect("mkdir .git");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/TAL006/fires-ghcr-installer");
    for name in ["alpha", "beta"] {
        copy_cluster(&fixture, &root.join("clusters").join(name), 20);
    }
    dir
}

/// A suppression comment that covers a finding of its own cluster is used, whatever the other
/// clusters of the run say (each used to call it unused, INT004).
#[test]
fn a_suppression_used_in_its_cluster_is_not_unused_in_the_others() {
    let dir = alpha_and_beta();
    let root = dir.path();
    rewrite(&root.join("clusters/alpha/talos/worker.yaml"), |text| {
        text.replacen(
            "    image: ghcr.io/siderolabs/installer:v1.11.6\n",
            "    # talhorn: ignore[TAL006] upgrades go through Omni, which keeps the extensions\n    image: ghcr.io/siderolabs/installer:v1.11.6\n",
            1,
        )
    });
    let outcome = lint(root);
    assert_eq!(
        cluster_names(&outcome).len(),
        2,
        "{:?}",
        cluster_names(&outcome)
    );
    let codes: Vec<(PathBuf, &str)> = outcome
        .findings
        .iter()
        .filter(|f| matches!(f.code, "TAL006" | "INT004"))
        .map(|f| (outcome.sources.path(f.at.file).to_path_buf(), f.code))
        .collect();
    assert_eq!(
        codes,
        [(root.join("clusters/beta/talos/worker.yaml"), "TAL006")],
        "alpha's TAL006 is suppressed, beta's is not, and nothing is unused"
    );
}

/// A suppression comment that covers nothing is reported (INT004) in the cluster of its file,
/// not in whichever cluster's name sorts first: every cluster used to report every unused
/// comment of the run, and one finding was kept, naming the first cluster.
#[test]
fn an_unused_suppression_is_reported_in_its_own_cluster() {
    let dir = alpha_and_beta();
    let root = dir.path();
    let worker = root.join("clusters/beta/talos/worker.yaml");
    rewrite(&worker, |text| {
        format!("# talhorn: ignore[PVE001] no VM config on the next line\n{text}")
    });
    let outcome = lint(root);
    let unused: Vec<(PathBuf, Option<&str>)> = outcome
        .findings
        .iter()
        .filter(|f| f.code == "INT004")
        .map(|f| {
            let path = outcome.sources.path(f.at.file).to_path_buf();
            (path, f.cluster.as_deref())
        })
        .collect();
    let beta = talhorn::source::display_path(&root.join("clusters/beta"), Path::new(""));
    assert_eq!(unused, [(worker, Some(beta.as_str()))]);
}

/// A lint reads most files only for their cluster, and keeps the texts its report needs:
/// those findings point into, not every file's. The kinds of files read that way still show.
#[test]
fn a_lint_keeps_only_the_texts_its_findings_point_into() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir(root.join(".git")).expect("mkdir .git");
    write(
        &root.join("clusters/a/proxmox/qemu-server/100.conf"),
        "cpu: kvm64\nmemory: 4096\nname: a-w-0\nscsi0: local-lvm:vm-100-disk-0,size=32G\n",
    );
    write(
        &root.join("clusters/a/apps/settings.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: settings # level: info\n",
    );
    let text_of = |sources: &talhorn::source::SourceMap, name: &str| {
        sources
            .iter()
            .find(|(_, file)| file.path.ends_with(name))
            .map(|(_, file)| file.text.clone())
            .unwrap_or_else(|| panic!("{name} has a place in the map"))
    };
    let outcome = lint(root);
    assert!(
        outcome
            .findings
            .iter()
            .any(|f| outcome.sources.path(f.at.file).ends_with("100.conf")),
        "kvm64 is reported"
    );
    for finding in &outcome.findings {
        assert!(!outcome.sources.get(finding.at.file).text.is_empty());
    }
    assert!(text_of(&outcome.sources, "100.conf").contains("kvm64"));
    assert_eq!(text_of(&outcome.sources, "settings.yaml"), "");
    // Reading for the models keeps every text.
    let read = talhorn::ingest::ingest(&[root.to_path_buf()], &config_for(root)).expect("reads");
    assert!(text_of(&read.sources, "settings.yaml").contains("level: info"));
    let kinds: Vec<_> = outcome
        .files
        .iter()
        .map(|f| (f.path.file_name().unwrap().to_owned(), f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("settings.yaml".into(), talhorn::ingest::Kind::Manifests),
            ("100.conf".into(), talhorn::ingest::Kind::QmConf),
        ]
    );
}
