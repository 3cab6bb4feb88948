//! talhelper's `talconfig.yaml` into the model: its `talosVersion` (the Talos version of the
//! cluster), each node (hostname, address, role, install disk, interfaces, labels, kernel
//! modules, data disks, user volumes) as a Talos node, its patches (inline, or `@file` read as
//! that file) scoped to everything / a role / a node, and its schematics.
//!
//! A node's own settings are read as the Talos config talhelper makes of them; they are not
//! Talos documents as written, so only the patches are checked against Talos's schema.

use super::embedded;
use super::talos::{self, TalosFile};
use super::yaml_facts::{Located, str_fact};
use crate::finding::{Finding, Severity};
use crate::intent::Role;
use crate::model::Scope;
use crate::model::talos::SchematicFacts;
use crate::source::{Fact, FileId, Location, Span};
use crate::yaml::{Node, Value};
use std::path::{Path, PathBuf};

/// What one `talconfig.yaml` says.
#[derive(Debug, Default)]
pub struct Talconfig {
    pub talos_version: Option<Fact<String>>,
    /// `endpoint`: the Kubernetes API endpoint talhelper writes into every node's config.
    pub endpoint: Option<Fact<String>>,
    pub talos_files: Vec<TalosFile>,
    /// `@./patches/x.yaml` files and the scope the patch gives them.
    pub patch_files: Vec<(PathBuf, Scope)>,
    pub schematic: Option<SchematicFacts>,
    pub findings: Vec<Finding>,
}

pub fn read(file: FileId, path: &Path, text: &str, doc: &Node) -> Talconfig {
    let at = Located(file);
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let talos_version = str_fact(at, doc.get("talosVersion")).map(|version| {
        // `1.11.6` is `v1.11.6`; a variable talenv does not fill in stays as written.
        version.map(|v| match from_talenv(&v, &dir).unwrap_or(v) {
            v if v.starts_with(|c: char| c.is_ascii_digit()) => format!("v{v}"),
            v => v,
        })
    });
    let mut reader = Reader {
        file,
        dir,
        text,
        out: Talconfig {
            talos_version,
            endpoint: str_fact(at, doc.get("endpoint")),
            ..Talconfig::default()
        },
    };
    reader.patches(doc.get("patches"), &Scope::All, "talconfig-patches");
    let roles = [
        ("controlPlane", Role::Controlplane),
        ("worker", Role::Worker),
    ];
    for (key, role) in roles {
        let Some(section) = doc.get(key) else {
            continue;
        };
        reader.patches(section.get("patches"), &Scope::Role(role), key);
        reader.schematic(section.get("schematic"), role == Role::Worker);
    }
    if let Some(cluster) = cluster_doc(doc) {
        reader.push_docs("talconfig", vec![cluster], &Scope::All, false);
    }
    for node in doc.get("nodes").and_then(Node::as_seq).unwrap_or_default() {
        reader.node(node);
    }
    reader.out
}

/// The value talhelper's envsubst gives a `${name}` (or `$name`) from `talenv.yaml` beside the
/// talconfig, which talhelper loads into its environment (the cluster template keeps its Talos
/// version there, for Renovate). `None` for anything else: a text that is no variable, no
/// plain talenv (an encrypted `talenv.sops.yaml` is never read), a name it does not hold.
fn from_talenv(text: &str, dir: &Path) -> Option<String> {
    let name = text
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .or_else(|| text.strip_prefix('$'))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    ["talenv.yaml", "talenv.yml"].iter().find_map(|file| {
        let text = super::discover::read_text(&dir.join(file)).ok()?;
        crate::yaml::parse_document(&text)
            .ok()?
            .get(name)?
            .scalar_text()
    })
}

/// What talhelper's `envsubst` makes of `$$` in `talconfig.yaml` and in every `@file` patch
/// (`pkg/substitute/envsubst.go`, a8m/envsubst): a `$`. A talhelper patch writes Talos's
/// delete directive `$$patch: delete` (a bare `$patch` is a variable there, and talhelper
/// stops at it: talhelper#876); Talos gets `$patch: delete`.
pub fn unescape_dollars(node: &mut Node) {
    if let Value::Str(text) = &mut node.value
        && text.contains("$$")
    {
        *text = text.replace("$$", "$");
    }
    embedded::for_children(node, &mut unescape_dollars);
}

/// Whether a document holds a `$$` that talhelper's `envsubst` would turn into `$`.
pub fn has_escaped_dollars(node: &Node) -> bool {
    match &node.value {
        Value::Str(text) => text.contains("$$"),
        Value::Seq(items) => items.iter().any(has_escaped_dollars),
        Value::Map(entries) => entries
            .iter()
            .any(|(key, value)| has_escaped_dollars(key) || has_escaped_dollars(value)),
        _ => false,
    }
}

/// Cluster-wide settings talhelper writes into every config: scheduling on control planes and
/// the CNI (`cniConfig.name`).
fn cluster_doc(doc: &Node) -> Option<Node> {
    let entry = |key: &str, value: Node| (Node::new(Value::Str(key.into()), value.span), value);
    let mut cluster = Vec::new();
    // `allowSchedulingOnMasters` is talhelper's older name for it (it still reads both).
    let allow = doc
        .get("allowSchedulingOnControlPlanes")
        .or_else(|| doc.get("allowSchedulingOnMasters"));
    if let Some(allow) = allow {
        cluster.push(entry("allowSchedulingOnControlPlanes", allow.clone()));
    }
    if let Some(name) = doc.path(&["cniConfig", "name"]) {
        let cni = Node::new(Value::Map(vec![entry("name", name.clone())]), name.span);
        let network = Node::new(Value::Map(vec![entry("cni", cni)]), name.span);
        cluster.push(entry("network", network));
    }
    let span = cluster.first()?.1.span;
    let cluster = Node::new(Value::Map(cluster), span);
    Some(Node::new(Value::Map(vec![entry("cluster", cluster)]), span))
}

struct Reader<'a> {
    file: FileId,
    dir: PathBuf,
    text: &'a str,
    out: Talconfig,
}

impl Reader<'_> {
    fn patches(&mut self, patches: Option<&Node>, scope: &Scope, name: &str) {
        for patch in patches.and_then(Node::as_seq).unwrap_or_default() {
            match &patch.value {
                Value::Str(s) if s.trim_start().starts_with('@') => {
                    let relative = s.trim().trim_start_matches('@');
                    let path = super::group::normalize(&self.dir.join(relative));
                    self.out.patch_files.push((path, scope.clone()));
                }
                Value::Str(_) => {
                    let key = Node::new(Value::Null, patch.span);
                    match embedded::parse_string_documents(self.text, &key, patch) {
                        Ok(docs) => self.push_docs(name, docs, scope, true),
                        Err(error) => self.out.findings.push(Finding::new(
                            "INT001",
                            Severity::Error,
                            Location::new(self.file, error.span),
                            format!("this talhelper patch is not valid YAML: {}", error.message),
                        )),
                    }
                }
                _ => self.push_docs(name, vec![patch.clone()], scope, true),
            }
        }
    }

    /// Talos documents of a scope, as talhelper's `envsubst` leaves them (a JSON patch as the
    /// deletes it makes: [`talos::as_strategic_merge`]).
    fn push_docs(&mut self, name: &str, docs: Vec<Node>, scope: &Scope, written: bool) {
        let docs: Vec<Node> = talos::as_strategic_merge(docs)
            .into_iter()
            .map(|mut doc| {
                unescape_dollars(&mut doc);
                doc
            })
            .filter(super::classify::is_talos_document)
            .collect();
        if docs.is_empty() {
            return;
        }
        let at = Location::new(self.file, docs[0].span);
        let mut file = talos::read(self.file, Path::new(name), docs);
        file.named_scope = Some(scope.clone());
        // Findings about a whole patch point at it, not at the top of the file.
        file.config.origin = at;
        file.node.at = at;
        if !written {
            file.config.documents.clear();
        }
        self.out.talos_files.push(file);
    }

    fn schematic(&mut self, schematic: Option<&Node>, preferred: bool) {
        let Some(schematic) = schematic else { return };
        if self.out.schematic.is_some() && !preferred {
            return;
        }
        let mut facts = talos::schematic(self.file, schematic);
        facts.at = Location::new(self.file, schematic.span);
        self.out.schematic = Some(facts);
    }

    fn node(&mut self, node: &Node) {
        let Some(hostname) = node.get("hostname").and_then(Node::as_str) else {
            return;
        };
        let scope = Scope::Node(hostname.to_owned());
        let is_control_plane = node
            .get("controlPlane")
            .is_some_and(|n| matches!(n.value, Value::Bool(true)));
        let machine = machine_doc(node, is_control_plane);
        let mut docs = vec![machine];
        docs.extend(user_volumes(node));
        let mut file = talos::read(self.file, Path::new(hostname), docs);
        file.named_scope = Some(scope.clone());
        file.config.documents.clear();
        // Findings about the node point at its entry, not at the top of the file.
        let at = node.get("hostname").map_or(node.span, |h| h.span);
        file.node.at = Location::new(self.file, at);
        file.config.origin = file.node.at;
        if let Some(ip) = str_fact(Located(self.file), node.get("ipAddress")) {
            file.node.addresses.push(ip);
        }
        self.out.talos_files.push(file);
        self.patches(node.get("patches"), &scope, hostname);
        if self.out.schematic.is_none() {
            self.schematic(node.get("schematic"), false);
        }
    }
}

/// The `machine` section talhelper generates from a node's settings, located at them.
fn machine_doc(node: &Node, control_plane: bool) -> Node {
    let span = node.span;
    let key = |k: &str, at: Span| Node::new(Value::Str(k.into()), at);
    let map = |entries: Vec<(Node, Node)>| Node::new(Value::Map(entries), span);
    let role_span = node.entry("controlPlane").map_or(span, |(k, _)| k.span);
    let role = if control_plane {
        "controlplane"
    } else {
        "worker"
    };
    let mut machine = vec![(
        key("type", role_span),
        Node::new(Value::Str(role.into()), role_span),
    )];
    let mut install = Vec::new();
    if let Some((k, v)) = node.entry("installDisk") {
        install.push((key("disk", k.span), v.clone()));
    }
    if let Some((k, v)) = node.entry("installDiskSelector") {
        install.push((key("diskSelector", k.span), v.clone()));
    }
    if !install.is_empty() {
        machine.push((key("install", span), map(install)));
    }
    let mut network = Vec::new();
    if let Some((k, v)) = node.entry("hostname") {
        network.push((key("hostname", k.span), v.clone()));
    }
    if let Some((k, v)) = node.entry("networkInterfaces") {
        network.push((key("interfaces", k.span), v.clone()));
    }
    machine.push((key("network", span), map(network)));
    if let Some((k, v)) = node.entry("nodeLabels") {
        machine.push((key("nodeLabels", k.span), v.clone()));
    }
    if let Some((k, v)) = node.entry("nodeAnnotations") {
        machine.push((key("nodeAnnotations", k.span), v.clone()));
    }
    if let Some((k, v)) = node.entry("kernelModules") {
        let modules = map(vec![(key("modules", k.span), v.clone())]);
        machine.push((key("kernel", k.span), modules));
    }
    // talhelper writes a node's `machineDisks` as its `machine.disks`.
    if let Some((k, v)) = node.entry("machineDisks") {
        machine.push((key("disks", k.span), v.clone()));
    }
    map(vec![(key("machine", span), map(machine))])
}

/// talhelper's `userVolumes`: `UserVolumeConfig` documents without their `kind`.
fn user_volumes(node: &Node) -> Vec<Node> {
    let volumes = node
        .get("userVolumes")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    volumes
        .iter()
        .filter_map(|volume| {
            let mut entries = volume.as_map()?.to_vec();
            let kind = Node::new(Value::Str("kind".into()), volume.span);
            let value = Node::new(Value::Str("UserVolumeConfig".into()), volume.span);
            entries.push((kind, value));
            Some(Node::new(Value::Map(entries), volume.span))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_nodes_and_scoped_patches() {
        let text = r#"clusterName: c
talosVersion: v1.10.3
endpoint: https://10.0.0.10:6443
nodes:
  - hostname: cp1
    ipAddress: 10.0.0.11
    controlPlane: true
    installDisk: /dev/sda
    patches:
      - "@./patches/cp1.yaml"
  - hostname: w1
    ipAddress: 10.0.0.21
    controlPlane: false
cniConfig:
  name: none
worker:
  patches:
    - |-
      machine:
        kubelet:
          extraMounts: []
"#;
        let doc = crate::yaml::parse_document(text).expect("yaml");
        let config = read(FileId(0), Path::new("repo/talconfig.yaml"), text, &doc);
        assert_eq!(
            config.talos_version.map(|v| v.value).as_deref(),
            Some("v1.10.3")
        );
        let nodes: Vec<_> = config
            .talos_files
            .iter()
            .filter_map(|f| match &f.named_scope {
                Some(Scope::Node(name)) => Some((name.clone(), f.node.role)),
                _ => None,
            })
            .collect();
        assert_eq!(
            nodes,
            [
                ("cp1".to_owned(), Some(Role::Controlplane)),
                ("w1".to_owned(), Some(Role::Worker))
            ]
        );
        assert_eq!(
            config.patch_files,
            [(
                PathBuf::from("repo/patches/cp1.yaml"),
                Scope::Node("cp1".into())
            )]
        );
        let worker = config
            .talos_files
            .iter()
            .find(|f| f.named_scope == Some(Scope::Role(Role::Worker)))
            .expect("worker patch");
        assert!(worker.config.kubelet_at.is_some());
        let cni = config.talos_files.iter().find_map(|f| f.cni.clone());
        assert_eq!(cni.map(|c| c.value).as_deref(), Some("none"));
        assert_eq!(worker.config.documents.len(), 1);
    }
}
