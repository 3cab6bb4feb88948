//! Recognising what a file is, by its name and its content.

use super::discover::in_dir_named;
use crate::load::qmconf::QmConfig;
use crate::yaml::Node;
use std::path::Path;

/// A file kind recognised by name alone (before parsing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// `*.conf`: a VM config if its content looks like one.
    Conf,
    StorageCfg,
    Interfaces,
    Yaml,
    /// `*.tf` / `*.tfvars`: Terraform or OpenTofu.
    Terraform,
}

pub fn by_name(path: &Path) -> Option<NameKind> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    if name == "storage.cfg" {
        Some(NameKind::StorageCfg)
    } else if name == "interfaces" || in_dir_named(path, "interfaces.d") {
        Some(NameKind::Interfaces)
    } else if extension == "conf" {
        Some(NameKind::Conf)
    } else if matches!(extension, "tf" | "tfvars") {
        Some(NameKind::Terraform)
    } else if matches!(extension, "yaml" | "yml") && !is_talhelper_secret(name) {
        Some(NameKind::Yaml)
    } else {
        None
    }
}

/// talhelper's `talsecret*.yaml` (cluster secrets) and `talenv*.yaml` (variables): their
/// `cluster:` key makes them look like Talos configs, which they are not.
fn is_talhelper_secret(name: &str) -> bool {
    name.starts_with("talsecret") || name.starts_with("talenv")
}

/// Keys that nearly every VM config has; other `*.conf` files (nginx, sysctl, ...) have none.
const VM_KEYS: &[&str] = &[
    "agent", "balloon", "bios", "boot", "cores", "cpu", "machine", "memory", "name", "numa",
    "onboot", "ostype", "scsihw", "smbios1", "sockets", "tags", "vmgenid",
];
const VM_INDEXED_KEYS: &[&str] = &["efidisk", "ide", "net", "sata", "scsi", "serial", "virtio"];

/// Whether a parsed `*.conf` is a Proxmox VM config: under a `qemu-server` directory, or mostly
/// `key: value` lines with at least two keys every VM config uses.
pub fn is_qm_conf(path: &Path, config: &QmConfig) -> bool {
    if in_dir_named(path, "qemu-server") {
        return true;
    }
    let Some(main) = config.main() else {
        return false;
    };
    let vm_keys = main.options.iter().filter(|o| is_vm_key(&o.key)).count();
    let syntax_errors = config
        .problems
        .iter()
        .filter(|p| p.kind == crate::load::qmconf::QmProblemKind::Syntax)
        .count();
    vm_keys >= 2 && syntax_errors < vm_keys
}

fn is_vm_key(key: &str) -> bool {
    let stem = key.trim_end_matches(|c: char| c.is_ascii_digit());
    VM_KEYS.contains(&key) || (stem.len() < key.len() && VM_INDEXED_KEYS.contains(&stem))
}

/// What a YAML file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlKind {
    Intent,
    /// Talos machine config or patch (every document is a Talos document).
    Talos,
    /// Image Factory schematic.
    Schematic,
    LonghornValues,
    CiliumValues,
    /// Kubernetes manifests (`apiVersion` + `kind`): Namespaces, HelmReleases, Applications.
    Manifests,
    /// talhelper's `talconfig.yaml`.
    Talhelper,
    Unknown,
}

/// Top-level keys found only in Longhorn's chart values.
const LONGHORN_VALUE_KEYS: &[&str] = &[
    "defaultSettings",
    "defaultBackupStore",
    "longhornManager",
    "longhornDriver",
    "longhornUI",
    "preUpgradeChecker",
];
/// Top-level keys of Cilium's chart values that decide the MTU budget.
const CILIUM_VALUE_KEYS: &[&str] = &["MTU", "routingMode", "tunnelProtocol"];
/// Top-level keys that make a document the legacy Talos `v1alpha1` config.
const TALOS_LEGACY_KEYS: &[&str] = &["machine", "cluster", "debug", "persist"];

pub fn yaml_kind(path: &Path, docs: &[Node]) -> YamlKind {
    if let [doc] = docs {
        if is_talhelper(doc) {
            return YamlKind::Talhelper;
        }
        if is_intent(doc) {
            return YamlKind::Intent;
        }
        if is_schematic(doc) {
            return YamlKind::Schematic;
        }
        if let Some(kind) = values_kind(path, doc) {
            return kind;
        }
    }
    if docs.iter().any(is_talos_document) {
        return YamlKind::Talos;
    }
    if !docs.is_empty() && docs.iter().all(is_manifest) {
        return YamlKind::Manifests;
    }
    YamlKind::Unknown
}

fn has_key(doc: &Node, key: &str) -> bool {
    doc.entry(key).is_some()
}

fn is_intent(doc: &Node) -> bool {
    ["cluster", "nodes", "proxmox"]
        .iter()
        .all(|k| has_key(doc, k))
}

/// talhelper's `talconfig.yaml`: `clusterName` and a list of `nodes` with `hostname`s.
fn is_talhelper(doc: &Node) -> bool {
    has_key(doc, "clusterName")
        && doc
            .get("nodes")
            .and_then(Node::as_seq)
            .is_some_and(|nodes| nodes.iter().any(|n| has_key(n, "hostname")))
}

fn is_schematic(doc: &Node) -> bool {
    has_key(doc, "customization") && !has_key(doc, "apiVersion") && !has_key(doc, "kind")
}

fn values_kind(path: &Path, doc: &Node) -> Option<YamlKind> {
    if doc.as_map().is_none() || has_key(doc, "apiVersion") || has_key(doc, "kind") {
        return None;
    }
    let named_values = path
        .file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.starts_with("values"));
    let longhorn = LONGHORN_VALUE_KEYS.iter().any(|k| has_key(doc, k))
        || doc
            .path(&["persistence", "defaultClassReplicaCount"])
            .is_some()
        || (named_values && in_dir_named(path, "longhorn"));
    if longhorn {
        return Some(YamlKind::LonghornValues);
    }
    let cilium = CILIUM_VALUE_KEYS.iter().any(|k| has_key(doc, k))
        || (named_values && in_dir_named(path, "cilium"));
    cilium.then_some(YamlKind::CiliumValues)
}

/// A Talos document: the legacy config (`machine`, `cluster`, ... at the top), or a document
/// of `apiVersion: v1alpha1` (no group: Kubernetes API versions have one, or are `v1`), or a
/// `...Config` kind without a Kubernetes group.
pub fn is_talos_document(doc: &Node) -> bool {
    let api_version = doc.get("apiVersion").and_then(Node::as_str);
    let kind = doc.get("kind").and_then(Node::as_str);
    if TALOS_LEGACY_KEYS.iter().any(|k| has_key(doc, k)) {
        return true;
    }
    match (api_version, kind) {
        (Some("v1alpha1"), _) => true,
        (None, Some(kind)) => kind.ends_with("Config"),
        _ => false,
    }
}

fn is_manifest(doc: &Node) -> bool {
    doc.get("apiVersion").and_then(Node::as_str).is_some()
        && doc.get("kind").and_then(Node::as_str).is_some()
}

/// Whether a file that fails to parse is still probably one of ours (so its parse error is
/// worth reporting): under a `talos`, `longhorn`, `cilium` or `qemu-server` directory, or
/// named like a file talhorn writes.
pub fn looks_like_ours(path: &Path) -> bool {
    const DIRS: &[&str] = &["talos", "longhorn", "cilium", "nodes"];
    const STEMS: &[&str] = &[
        "controlplane",
        "control-plane",
        "worker",
        "schematic",
        "cluster",
        "helmrelease",
        "application",
        "talhorn",
    ];
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    DIRS.iter().any(|d| in_dir_named(path, d)) || STEMS.iter().any(|s| stem.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn kind(path: &str, text: &str) -> YamlKind {
        yaml_kind(Path::new(path), &parse_documents(text).unwrap_or_default())
    }

    #[test]
    fn recognises_yaml_kinds_by_content() {
        assert_eq!(
            kind("a.yaml", "machine:\n  type: worker\n"),
            YamlKind::Talos
        );
        assert_eq!(
            kind(
                "a.yaml",
                "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: x\n"
            ),
            YamlKind::Talos
        );
        assert_eq!(
            kind("a.yaml", "kind: LinkConfig\nname: eth0\n"),
            YamlKind::Talos
        );
        assert_eq!(kind("a.yaml", "customization: {}\n"), YamlKind::Schematic);
        assert_eq!(
            kind("a.yaml", "defaultSettings:\n  x: 1\n"),
            YamlKind::LonghornValues
        );
        assert_eq!(
            kind("a.yaml", "routingMode: native\n"),
            YamlKind::CiliumValues
        );
        assert_eq!(
            kind("a.yaml", "apiVersion: v1\nkind: Namespace\n"),
            YamlKind::Manifests
        );
        assert_eq!(
            kind("a.yaml", "cluster: {}\nnodes: []\nproxmox: {}\n"),
            YamlKind::Intent
        );
        assert_eq!(kind("a.yaml", "replicaCount: 2\n"), YamlKind::Unknown);
    }

    #[test]
    fn recognises_values_by_location() {
        assert_eq!(
            kind("k/longhorn/values.yaml", "x: 1\n"),
            YamlKind::LonghornValues
        );
        assert_eq!(kind("k/other/values.yaml", "x: 1\n"), YamlKind::Unknown);
    }

    #[test]
    fn a_kubernetes_kind_ending_in_config_is_not_talos() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfig\n";
        assert_eq!(kind("a.yaml", text), YamlKind::Manifests);
    }

    #[test]
    fn other_conf_files_are_not_vm_configs() {
        let nginx = crate::load::qmconf::parse("server {\n  listen 80;\n}\n");
        assert!(!is_qm_conf(Path::new("nginx.conf"), &nginx));
        let vm =
            crate::load::qmconf::parse("cores: 2\nmemory: 4096\nscsi0: local-lvm:vm-1-disk-0\n");
        assert!(is_qm_conf(Path::new("101.conf"), &vm));
    }
}
