//! Recognising what a file is, by evidence: one recogniser per kind in [`REGISTRY`].
//!
//! A recogniser looks at the file's name, and for YAML and `*.conf` at its parsed content. The
//! first recogniser (in registry order) that finds its evidence decides the kind. A file that
//! no recogniser claims is not read: talhorn never guesses (a Cilium values file with a
//! `cluster:` key is not a Talos config). To add a kind, add a [`Kind`] and one entry here,
//! then read it in [`super`].

use super::discover::in_dir_named;
use crate::knowledge::talos_schema;
use crate::load::qmconf::QmConfig;
use crate::yaml::{Node, SkimmedDocument};
use std::path::Path;

/// What a file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A talhorn intent (`cluster.yaml`): one cluster of its own.
    Intent,
    /// Talos machine config or patch.
    Talos,
    /// Image Factory schematic.
    Schematic,
    LonghornValues,
    CiliumValues,
    /// Kubernetes manifests (`apiVersion` + `kind`): Namespaces, HelmReleases, Applications.
    Manifests,
    /// Omni cluster template (`kind: Cluster`, `ControlPlane`, `Workers`, `Machine`): one cluster.
    OmniTemplate,
    /// Proxmox VM config (`qm.conf`).
    QmConf,
    StorageCfg,
    Interfaces,
    /// `.talhorn.yaml`: read as configuration, not linted as input.
    TalhornConfig,
    /// talhelper `talconfig.yaml`: starts a cluster.
    TalhelperConfig,
    /// `*.tf` / `*.tfvars`: Terraform or OpenTofu.
    Terraform,
    /// talhelper `talsecret*.yaml` / `talenv*.yaml`: secrets and variables, never a Talos config.
    TalhelperSecrets,
    /// A file under a Helm chart's `templates/`: Go templates, never parsed as YAML.
    HelmTemplate,
    /// A YAML file with template markers (`{{`, `{%`) that is not valid YAML until rendered.
    Templated,
    /// Read, but no recogniser found evidence of a kind talhorn checks.
    Unrecognised,
    /// Could not be read or parsed (reported as INT001).
    Invalid,
}

impl Kind {
    /// How `--show-files` names the kind.
    pub fn label(self) -> &'static str {
        REGISTRY.iter().find(|r| r.kind == self).map_or(
            match self {
                Self::Templated => "template (not valid YAML until rendered; not read)",
                Self::Invalid => "cannot be read or parsed (INT001)",
                _ => "not recognised",
            },
            |r| r.label,
        )
    }

    /// Whether the file holds facts talhorn checks (the run has checked something).
    pub fn is_checked(self) -> bool {
        !matches!(
            self,
            Self::TalhornConfig
                | Self::TalhelperSecrets
                | Self::HelmTemplate
                | Self::Templated
                | Self::Unrecognised
        )
    }
}

/// What decides a kind.
pub enum Evidence {
    /// The path alone; the file is not parsed to decide, and is read as `Reads` says.
    Name(fn(&FileName<'_>) -> bool, Reads),
    /// The parsed documents of a YAML file (and its path).
    Yaml(fn(&Path, &[Node]) -> bool),
    /// The parsed options of a `*.conf` file (and its path).
    Conf(fn(&Path, &QmConfig) -> bool),
}

/// A path and the parts of it the name recognisers look at, taken apart once.
pub struct FileName<'p> {
    pub path: &'p Path,
    pub name: &'p str,
    pub extension: &'p str,
}

impl<'p> FileName<'p> {
    pub fn of(path: &'p Path) -> Self {
        Self {
            path,
            name: file_name(path),
            extension: extension(path),
        }
    }

    fn is_yaml(&self) -> bool {
        matches!(self.extension, "yaml" | "yml")
    }
}

pub struct Recogniser {
    pub kind: Kind,
    pub label: &'static str,
    pub evidence: Evidence,
}

/// Every recogniser, in the order they are asked. Name evidence comes first: a chart template
/// or a talhelper secret is never parsed, whatever its content.
pub static REGISTRY: &[Recogniser] = &[
    Recogniser {
        kind: Kind::HelmTemplate,
        label: "Helm chart template (not read)",
        evidence: Evidence::Name(|f| is_helm_template(f.path), Reads::Nothing),
    },
    Recogniser {
        kind: Kind::TalhornConfig,
        label: "talhorn configuration",
        evidence: Evidence::Name(
            |f| f.name == crate::rules::config::FILE_NAME,
            Reads::Nothing,
        ),
    },
    Recogniser {
        kind: Kind::TalhelperSecrets,
        label: "talhelper secrets/env (not read)",
        evidence: Evidence::Name(
            |f| f.is_yaml() && (f.name.starts_with("talsecret") || f.name.starts_with("talenv")),
            Reads::Nothing,
        ),
    },
    Recogniser {
        kind: Kind::TalhelperConfig,
        label: "talhelper config",
        evidence: Evidence::Name(|f| is_talconfig_name(f.name), Reads::Yaml),
    },
    Recogniser {
        kind: Kind::Terraform,
        label: "Terraform/OpenTofu",
        evidence: Evidence::Name(|f| matches!(f.extension, "tf" | "tfvars"), Reads::Terraform),
    },
    Recogniser {
        kind: Kind::StorageCfg,
        label: "Proxmox storage.cfg",
        evidence: Evidence::Name(|f| f.name == "storage.cfg", Reads::Text),
    },
    Recogniser {
        kind: Kind::Interfaces,
        label: "network interfaces",
        evidence: Evidence::Name(
            |f| f.name == "interfaces" || in_dir_named(f.path, "interfaces.d"),
            Reads::Text,
        ),
    },
    Recogniser {
        kind: Kind::QmConf,
        label: "Proxmox VM config",
        evidence: Evidence::Conf(is_qm_conf),
    },
    Recogniser {
        kind: Kind::TalhelperConfig,
        label: "talhelper config",
        evidence: Evidence::Yaml(|_, docs| matches!(docs, [doc] if is_talhelper(doc))),
    },
    Recogniser {
        kind: Kind::Intent,
        label: "talhorn intent",
        evidence: Evidence::Yaml(|_, docs| matches!(docs, [doc] if is_intent(doc))),
    },
    Recogniser {
        kind: Kind::OmniTemplate,
        label: "Omni cluster template",
        evidence: Evidence::Yaml(|_, docs| is_omni_template(docs)),
    },
    Recogniser {
        kind: Kind::Schematic,
        label: "Image Factory schematic",
        evidence: Evidence::Yaml(|_, docs| matches!(docs, [doc] if is_schematic(doc))),
    },
    Recogniser {
        kind: Kind::LonghornValues,
        label: "Longhorn Helm values",
        evidence: Evidence::Yaml(
            |path, docs| matches!(docs, [doc] if is_longhorn_values(path, doc)),
        ),
    },
    Recogniser {
        kind: Kind::CiliumValues,
        label: "Cilium Helm values",
        evidence: Evidence::Yaml(|path, docs| matches!(docs, [doc] if is_cilium_values(path, doc))),
    },
    Recogniser {
        kind: Kind::Talos,
        label: "Talos config",
        evidence: Evidence::Yaml(|_, docs| {
            docs.iter().any(is_talos_document)
                || matches!(docs, [doc] if super::talos::is_json_patch(doc))
        }),
    },
    Recogniser {
        kind: Kind::Manifests,
        label: "Kubernetes manifests",
        evidence: Evidence::Yaml(|_, docs| !docs.is_empty() && docs.iter().all(is_manifest)),
    },
];

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Not at all.
    Nothing,
    /// As text, by a line-format parser.
    Text,
    Yaml,
    /// As `key: value` lines, then recognised by content (`*.conf`).
    Conf,
    /// As HCL (`*.tf`, `*.tfvars`).
    Terraform,
}

/// What a file's name says: its kind when the name decides it, and how to read the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByName {
    pub kind: Option<Kind>,
    pub reads: Reads,
}

/// The kind a name decides, or the format to parse the file in before deciding.
pub fn by_name(path: &Path) -> ByName {
    let file = FileName::of(path);
    let decided = REGISTRY.iter().find_map(|r| match r.evidence {
        Evidence::Name(matches, reads) if matches(&file) => Some(ByName {
            kind: Some(r.kind),
            reads,
        }),
        _ => None,
    });
    let reads = if file.is_yaml() {
        Reads::Yaml
    } else if file.extension == "conf" {
        Reads::Conf
    } else {
        Reads::Nothing
    };
    decided.unwrap_or(ByName { kind: None, reads })
}

/// The kind of a parsed YAML file.
pub fn yaml_kind(path: &Path, docs: &[Node]) -> Kind {
    REGISTRY
        .iter()
        .find(|r| matches!(r.evidence, Evidence::Yaml(is) if is(path, docs)))
        .map_or(Kind::Unrecognised, |r| r.kind)
}

/// The kind of a parsed `*.conf` file.
pub fn conf_kind(path: &Path, config: &QmConfig) -> Kind {
    REGISTRY
        .iter()
        .find(|r| matches!(r.evidence, Evidence::Conf(is) if is(path, config)))
        .map_or(Kind::Unrecognised, |r| r.kind)
}

/// Kinds of Kubernetes manifests whose documents talhorn reads
/// (`super::longhorn::Collected::manifests`); a test keeps the two in step.
const READ_MANIFEST_KINDS: &[&str] = &[
    // Its items are read as manifests.
    "List",
    "Namespace",
    "HelmRelease",
    "Application",
    "BackupTarget",
    "Setting",
    "ConfigMap",
    "Secret",
    "OCIRepository",
    "HelmChart",
    "Node",
    "StorageClass",
];

/// Whether a YAML file is Kubernetes manifests none of whose documents talhorn reads (a
/// Deployment, a Service), told from a skim instead of a full parse: then its full parse would
/// succeed, [`yaml_kind`] would say [`Kind::Manifests`] (every document has a string
/// `apiVersion` and `kind`; none is a Talos document; no key of a talhelper config or an
/// intent), and no document would add a fact. Most files of a GitOps repository are such.
/// A file with a suppression comment (`# talhorn: ignore[...]`) is parsed as before, so its
/// comment is still checked.
pub fn is_unread_manifests(text: &str) -> bool {
    may_be_unread_manifests(text)
        && are_manifests_of(text, |kind| !READ_MANIFEST_KINDS.contains(&kind))
}

/// Whether a YAML file is only ConfigMaps and Secrets that no `valuesFrom` could name and no
/// reader takes by name (not `longhorn-default-setting` / `-resource`), told from a skim as
/// [`is_unread_manifests`] tells its files: a cluster without a `valuesFrom` reads nothing in
/// it, so it need not be parsed there. Text with an escape, which could spell a name, or
/// with a suppression comment is parsed as before.
pub fn is_unreferenced_values_maps(text: &str) -> bool {
    let values_map = |kind: &str| matches!(kind, "ConfigMap" | "Secret");
    !text.contains("longhorn-default-")
        && !text.contains('\\')
        // Before the skim, which most Talos patches and values files would fail only at its
        // end: a block-style `kind:` line naming one (others are parsed in full, as before).
        && block_kinds(text).any(values_map)
        && are_manifests_of(text, values_map)
}

/// The kinds named on lines starting with `kind:`, as block-style manifests name theirs.
fn block_kinds(text: &str) -> impl Iterator<Item = &str> {
    crate::yaml::lines(text)
        .filter_map(|line| line.strip_prefix("kind:"))
        .map(str::trim)
}

/// Whether a text is Kubernetes manifests whose kinds all pass `kind_is`, from a skim: every
/// document has a string `apiVersion` (not Talos's `v1alpha1`) and `kind`, and no key of a
/// talhelper config or an intent, so its full parse would succeed and [`yaml_kind`] would
/// say [`Kind::Manifests`]. A text with a suppression comment (`# talhorn: ignore[...]`) is
/// never one: it is parsed, so that its comment is checked.
fn are_manifests_of(text: &str, kind_is: impl Fn(&str) -> bool) -> bool {
    if text.contains("talhorn:") {
        return false;
    }
    let Some(docs) = crate::yaml::skim_documents(text) else {
        return false;
    };
    !docs.is_empty()
        && docs.iter().all(|doc| {
            let (Some(api_version), Some(kind)) = (
                skimmed_string(doc, "apiVersion"),
                skimmed_string(doc, "kind"),
            ) else {
                return false;
            };
            api_version != "v1alpha1"
                && kind_is(kind)
                && doc.iter().all(|(k, _)| {
                    !matches!(k.as_ref(), "clusterName" | "cluster" | "nodes" | "proxmox")
                })
        })
}

/// Whether a YAML text may be a file that makes a cluster by its content: an intent (a
/// `proxmox` key), a talhelper config (`clusterName`) or an Omni template (`kind: Cluster`).
/// Grouping needs those before any cluster is folded; every other file can be read later.
/// Told from the text alone, so it errs towards yes: the words may be anywhere, and an escape
/// (`\`) could spell them in a quoted key.
pub fn may_make_cluster(text: &str) -> bool {
    let names_cluster_kind = memchr::memmem::find_iter(text.as_bytes(), "Cluster").any(|at| {
        text.as_bytes()
            .get(at + "Cluster".len())
            .is_none_or(|&next| !(next.is_ascii_alphanumeric() || b"_-.".contains(&next)))
    });
    text.contains('\\')
        || text.contains("proxmox")
        || text.contains("clusterName")
        || names_cluster_kind
}

/// A look at the lines, before the skim: manifests as written in block style have an
/// `apiVersion:` line, and a `kind:` line naming a kind talhorn reads, or Talos's `v1alpha1`,
/// means a full parse is needed anyway. Only saves the skim where it cannot help; the skim
/// decides.
fn may_be_unread_manifests(text: &str) -> bool {
    let mut api_version = false;
    for line in crate::yaml::lines(text) {
        if let Some(value) = line.strip_prefix("apiVersion:") {
            api_version = true;
            if value.trim() == "v1alpha1" {
                return false;
            }
        } else if let Some(value) = line.strip_prefix("kind:")
            && READ_MANIFEST_KINDS.contains(&value.trim())
        {
            return false;
        }
    }
    api_version
}

/// The string value of a top-level key (its last entry, as `Node::get`), if it is one.
fn skimmed_string<'d>(doc: &'d SkimmedDocument<'_>, key: &str) -> Option<&'d str> {
    let (_, value) = doc.iter().rev().find(|(k, _)| k == key)?;
    value.as_deref()
}

/// Text that is a template until rendered (Go, Helm, Jinja).
pub fn has_template_markers(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

fn extension(path: &Path) -> &str {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
}

/// Whether a file name is talhelper's `talconfig.yaml` (or `.yml`).
pub fn is_talconfig_name(name: &str) -> bool {
    matches!(name, "talconfig.yaml" | "talconfig.yml")
}

/// A file below a `templates` folder whose parent holds a `Chart.yaml`.
pub fn is_helm_template(path: &Path) -> bool {
    super::discover::contains_name(path, "templates")
        && path.ancestors().skip(1).any(|dir| {
            dir.file_name().is_some_and(|n| n == "templates")
                && dir
                    .parent()
                    .is_some_and(|chart| chart.join("Chart.yaml").is_file())
        })
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
/// Top-level keys of the legacy Talos `v1alpha1` config.
const TALOS_LEGACY_KEYS: &[&str] = &["version", "machine", "cluster", "debug", "persist"];
/// Kinds of an Omni cluster template.
const OMNI_KINDS: &[&str] = &["Cluster", "ControlPlane", "Workers", "Machine"];

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

/// A mapping without `apiVersion`/`kind`, as Helm values are.
fn is_values(doc: &Node) -> bool {
    doc.as_map().is_some() && !has_key(doc, "apiVersion") && !has_key(doc, "kind")
}

fn named_values_in(path: &Path, dir: &str) -> bool {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    stem.starts_with("values") && in_dir_named(path, dir)
}

fn is_longhorn_values(path: &Path, doc: &Node) -> bool {
    is_values(doc)
        && (LONGHORN_VALUE_KEYS.iter().any(|k| has_key(doc, k))
            || doc
                .path(&["persistence", "defaultClassReplicaCount"])
                .is_some()
            || named_values_in(path, "longhorn"))
}

fn is_cilium_values(path: &Path, doc: &Node) -> bool {
    is_values(doc)
        && (CILIUM_VALUE_KEYS.iter().any(|k| has_key(doc, k)) || named_values_in(path, "cilium"))
}

fn is_omni_template(docs: &[Node]) -> bool {
    let kind = |doc: &Node| doc.get("kind").and_then(Node::as_str).map(str::to_owned);
    docs.iter().any(|d| kind(d).as_deref() == Some("Cluster"))
        && docs.iter().all(|d| {
            !has_key(d, "apiVersion") && kind(d).is_some_and(|k| OMNI_KINDS.contains(&k.as_str()))
        })
}

/// A Talos document, by evidence: a kind Talos registers (its `apiVersion` may be missing, a
/// mistake TAL003 reports), any kind under `apiVersion: v1alpha1`, or the legacy config whose
/// top-level keys are all Talos's and whose `machine` holds Talos fields, or whose `cluster`
/// holds only Talos fields of the right shapes (`id`, `network`, `token` are common words). A
/// `cluster:` or `debug:` key alone is no evidence: Cilium, CNPG and many apps have one.
pub fn is_talos_document(doc: &Node) -> bool {
    let api_version = doc.get("apiVersion").and_then(Node::as_str);
    let kind = doc.get("kind").and_then(Node::as_str);
    match (api_version, kind) {
        (Some("v1alpha1"), Some(_)) => true,
        (None, Some(kind)) => talos_schema::is_talos_kind(kind),
        (Some("v1alpha1") | None, None) => is_legacy_talos(doc),
        _ => false,
    }
}

fn is_legacy_talos(doc: &Node) -> bool {
    let Some(entries) = doc.as_map() else {
        return false;
    };
    let top_level_known = entries.iter().all(|(key, _)| {
        key.as_str()
            .is_some_and(|k| k == "apiVersion" || TALOS_LEGACY_KEYS.contains(&k))
    });
    top_level_known
        && (has_talos_fields(doc, "machine", false)
            || (has_talos_fields(doc, "cluster", true) && fits_some_version(doc)))
}

/// Whether the document is valid for some Talos version, as written or, when it holds a `$$`,
/// as talhelper's `envsubst` leaves it (a talhelper `@file` patch writes `$$patch: delete`).
fn fits_some_version(doc: &Node) -> bool {
    talos_schema::fits_some_version(doc)
        || (super::talhelper::has_escaped_dollars(doc) && {
            let mut substituted = doc.clone();
            super::talhelper::unescape_dollars(&mut substituted);
            talos_schema::fits_some_version(&substituted)
        })
}

/// Whether `section` is a mapping of Talos fields: at least one, and with `all` every one.
fn has_talos_fields(doc: &Node, section: &str, all: bool) -> bool {
    let Some(fields) = doc.get(section).and_then(Node::as_map) else {
        return false;
    };
    let known = |key: &Node| {
        key.as_str()
            .is_some_and(|k| talos_schema::is_legacy_field(section, k))
    };
    if all {
        !fields.is_empty() && fields.iter().all(|(k, _)| known(k))
    } else {
        fields.iter().any(|(k, _)| known(k))
    }
}

fn is_manifest(doc: &Node) -> bool {
    doc.get("apiVersion").and_then(Node::as_str).is_some()
        && doc.get("kind").and_then(Node::as_str).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick text test only saves work: a name in the text but not as a folder (or the
    /// file's own name) is still no match.
    #[test]
    fn folder_names_are_whole_components_of_the_folder() {
        use super::super::discover::in_dir_named;
        assert!(in_dir_named(
            Path::new("a/interfaces.d/eth0"),
            "interfaces.d"
        ));
        assert!(!in_dir_named(
            Path::new("a/interfaces.d.bak/eth0"),
            "interfaces.d"
        ));
        assert!(!in_dir_named(Path::new("a/interfaces.d"), "interfaces.d"));
        assert!(!is_helm_template(Path::new("chart/templates.yaml")));
        assert!(!is_helm_template(Path::new("chart/my-templates/x.yaml")));
    }
    use crate::yaml::parse_documents;

    fn kind(path: &str, text: &str) -> Kind {
        yaml_kind(Path::new(path), &parse_documents(text).unwrap_or_default())
    }

    #[test]
    fn recognises_yaml_kinds_by_content() {
        assert_eq!(kind("a.yaml", "machine:\n  type: worker\n"), Kind::Talos);
        assert_eq!(
            kind(
                "a.yaml",
                "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: x\n"
            ),
            Kind::Talos
        );
        assert_eq!(
            kind("a.yaml", "kind: LinkConfig\nname: eth0\n"),
            Kind::Talos
        );
        assert_eq!(kind("a.yaml", "customization: {}\n"), Kind::Schematic);
        assert_eq!(
            kind("a.yaml", "defaultSettings:\n  x: 1\n"),
            Kind::LonghornValues
        );
        assert_eq!(kind("a.yaml", "routingMode: native\n"), Kind::CiliumValues);
        assert_eq!(
            kind("a.yaml", "apiVersion: v1\nkind: Namespace\n"),
            Kind::Manifests
        );
        assert_eq!(
            kind("a.yaml", "cluster: {}\nnodes: []\nproxmox: {}\n"),
            Kind::Intent
        );
        assert_eq!(kind("a.yaml", "replicaCount: 2\n"), Kind::Unrecognised);
    }

    #[test]
    fn recognises_values_by_location() {
        assert_eq!(
            kind("k/longhorn/values.yaml", "x: 1\n"),
            Kind::LonghornValues
        );
        assert_eq!(kind("k/other/values.yaml", "x: 1\n"), Kind::Unrecognised);
    }

    #[test]
    fn a_kubernetes_kind_ending_in_config_is_not_talos() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfig\n";
        assert_eq!(kind("a.yaml", text), Kind::Manifests);
        assert_eq!(
            kind("a.yaml", "kind: AppConfig\nname: x\n"),
            Kind::Unrecognised
        );
    }

    #[test]
    fn a_cluster_or_debug_key_alone_is_no_talos_evidence() {
        // Cilium values, CNPG values, an app config.
        assert_eq!(
            kind("a.yaml", "cluster:\n  name: c1\n  id: 1\n"),
            Kind::Unrecognised
        );
        assert_eq!(
            kind("a.yaml", "cluster:\n  instances: 3\nbackups: {}\n"),
            Kind::Unrecognised
        );
        assert_eq!(
            kind("a.yaml", "debug: true\nport: 80\n"),
            Kind::Unrecognised
        );
        assert_eq!(kind("a.yaml", "debug: true\n"), Kind::Unrecognised);
        // talhelper's secrets carry `cluster.id` and `cluster.secret`, and more top-level keys.
        let secrets = "cluster:\n  id: x\n  secret: y\nsecrets:\n  bootstraptoken: z\n";
        assert_eq!(kind("a.yaml", secrets), Kind::Unrecognised);
        let common_words = "cluster:\n  network: internal\n  id: 7\ndebug: false\n";
        assert_eq!(kind("a.yaml", common_words), Kind::Unrecognised);
        // A real cluster patch is still recognised.
        assert_eq!(
            kind(
                "a.yaml",
                "cluster:\n  allowSchedulingOnControlPlanes: true\n"
            ),
            Kind::Talos
        );
        assert_eq!(
            kind(
                "a.yaml",
                "machine:\n  install:\n    disk: /dev/sda\ndebug: false\n"
            ),
            Kind::Talos
        );
    }

    #[test]
    fn talhelper_secrets_are_never_read() {
        for name in ["talsecret.sops.yaml", "talsecret.yaml", "talenv.yaml"] {
            let by_name = by_name(Path::new(name));
            assert_eq!(by_name.kind, Some(Kind::TalhelperSecrets));
            assert_eq!(by_name.reads, Reads::Nothing);
        }
        let talconfig = by_name(Path::new("talconfig.yaml"));
        assert_eq!(talconfig.kind, Some(Kind::TalhelperConfig));
        assert_eq!(talconfig.reads, Reads::Yaml);
    }

    #[test]
    fn omni_cluster_templates_are_recognised() {
        let text = "kind: Cluster\nname: c1\ntalos:\n  version: v1.11.6\n---\nkind: ControlPlane\nmachines: [a]\n";
        assert_eq!(kind("t.yaml", text), Kind::OmniTemplate);
    }

    #[test]
    fn manifests_nothing_reads_are_told_without_a_full_parse() {
        let unread = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n---\n\
                      apiVersion: v1\nkind: Service\nspec: {ports: [{port: 80}]}\n";
        assert!(is_unread_manifests(unread));
        assert_eq!(kind("a.yaml", unread), Kind::Manifests);
        for text in [
            // A kind whose documents are read, alone or beside unread ones.
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: longhorn-default-setting\n",
            // A List, whose items may be such documents.
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: longhorn.io/v1beta2\n  kind: BackupTarget\n",
            "apiVersion: apps/v1\nkind: Deployment\n---\napiVersion: v1\nkind: Namespace\n",
            // Talos documents, and no manifests at all.
            "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: x\n",
            "kind: LinkConfig\nname: eth0\n",
            "replicaCount: 2\n",
            // `kind` not certainly a string.
            "apiVersion: v1\nkind: 1\n",
            "apiVersion: v1\nkind: Job\nkind: yes\n",
            // Keys of a talhelper config or an intent.
            "apiVersion: v1\nkind: Job\nclusterName: c\nnodes: [{hostname: a}]\n",
            // Invalid YAML is reported (INT001), so it is parsed in full.
            "apiVersion: v1\nkind: Job\nspec: [\n",
            // A suppression comment is checked (INT004).
            "apiVersion: v1\nkind: Job # talhorn: ignore[TAL001] reason\n",
            "",
        ] {
            assert!(!is_unread_manifests(text), "{text:?}");
        }
    }

    /// `READ_MANIFEST_KINDS` names every kind `Collected::manifests` reads: a kind added there
    /// and not here would be skipped unread.
    #[test]
    fn read_manifest_kinds_match_what_the_longhorn_reader_reads() {
        let source = include_str!("longhorn.rs");
        let start = source.find("fn manifest(").unwrap();
        let body = &source[start..];
        let body = &body[..body.find("\n    }\n").unwrap()];
        let mut read = Vec::new();
        for arm in body.split("Some(").skip(1) {
            let arm = arm.trim_start_matches('(');
            for kind in arm.split('|') {
                if let Some(kind) = kind
                    .trim()
                    .strip_prefix('"')
                    .and_then(|k| k.split('"').next())
                {
                    read.push(kind);
                }
                if !kind.trim_end().ends_with('"') {
                    break;
                }
            }
        }
        read.sort_unstable();
        let mut listed = READ_MANIFEST_KINDS.to_vec();
        listed.sort_unstable();
        assert_eq!(read, listed);
    }

    /// Over every YAML file of the fixtures, the examples and the benchmark's synthetic tree:
    /// each file `skimmed` takes parses, is recognised as manifests, and has only documents
    /// whose kind passes `kind_is`.
    fn skimmed_manifests_agree_with_the_full_parse(
        skimmed: fn(&str) -> bool,
        kind_is: fn(&str) -> bool,
    ) {
        let synthetic = tempfile::tempdir().unwrap();
        let mut taken = 0;
        for path in crate::yaml::yaml_corpus(synthetic.path()) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if !skimmed(&text) {
                continue;
            }
            taken += 1;
            let docs = parse_documents(&text).unwrap();
            assert_eq!(
                yaml_kind(&path, &docs),
                Kind::Manifests,
                "{}",
                path.display()
            );
            for doc in &docs {
                let kind = doc.get("kind").and_then(Node::as_str).unwrap();
                assert!(kind_is(kind), "{}", path.display());
            }
        }
        assert!(taken > 0);
    }

    #[test]
    fn unread_manifests_agree_with_the_full_parse_on_the_corpora() {
        skimmed_manifests_agree_with_the_full_parse(is_unread_manifests, |kind| {
            !READ_MANIFEST_KINDS.contains(&kind)
        });
    }

    #[test]
    fn unreferenced_values_maps_agree_with_the_full_parse_on_the_corpora() {
        skimmed_manifests_agree_with_the_full_parse(is_unreferenced_values_maps, |kind| {
            matches!(kind, "ConfigMap" | "Secret")
        });
    }

    #[test]
    fn configmaps_and_secrets_alone_can_go_unparsed() {
        let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n";
        let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: v\n";
        let both = format!("{config_map}---\n{secret}");
        for unreferenced in [config_map, secret, both.as_str()] {
            assert!(is_unreferenced_values_maps(unreferenced), "{unreferenced}");
        }
        let release =
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n";
        for read in [
            format!("{config_map}---\n{release}"),
            config_map.replace("name: app", "name: longhorn-default-setting"),
            config_map.replace("a: b", "a: b # talhorn: ignore[LHN001] reason"),
            config_map.replace("a: b", "a: \"b\\n\""),
            "machine:\n  type: worker\n".to_owned(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n".to_owned(),
        ] {
            assert!(!is_unreferenced_values_maps(&read), "{read}");
        }
    }

    /// Grouping reads before any fold only the files [`may_make_cluster`] keeps: over every
    /// YAML file of the corpora, each intent, talhelper config and Omni template is one.
    #[test]
    fn every_file_that_makes_a_cluster_is_read_before_grouping_on_the_corpora() {
        let synthetic = tempfile::tempdir().unwrap();
        let mut makers = 0;
        for path in crate::yaml::yaml_corpus(synthetic.path()) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(docs) = parse_documents(&text) else {
                continue;
            };
            let kind = yaml_kind(&path, &docs);
            if matches!(
                kind,
                Kind::Intent | Kind::TalhelperConfig | Kind::OmniTemplate
            ) {
                makers += 1;
                assert!(may_make_cluster(&text), "{kind:?} {}", path.display());
            }
        }
        assert!(makers > 10, "the corpora hold intents and templates");
    }

    #[test]
    fn what_may_make_a_cluster() {
        for maker in [
            "cluster: {}\nnodes: []\nproxmox: {}\n",
            "clusterName: c\nnodes:\n  - hostname: a\n",
            "kind: Cluster\nname: c\n",
            "{\"kind\": \"Cluster\"}",
            "kind: \"\\x43luster\"\n",
        ] {
            assert!(may_make_cluster(maker), "{maker}");
        }
        for other in [
            "machine:\n  type: worker\n",
            "apiVersion: v1\nkind: ClusterRole\n",
            "spec:\n  type: ClusterIP\n",
            "defaultSettings:\n  x: 1\n",
        ] {
            assert!(!may_make_cluster(other), "{other}");
        }
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
