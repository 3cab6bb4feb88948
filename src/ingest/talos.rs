//! Talos files into the model: machine configs and patches → [`TalosConfig`] (and, for
//! per-node files, a [`TalosNode`]); the Image Factory schematic → [`SchematicFacts`].

use super::yaml_facts::{Located, bool_fact, str_fact, u32_fact};
use crate::intent::Role;
use crate::knowledge::talos::CONTROL_PLANE_TAINT;
use crate::model::talos::{MachineDisk, SchematicFacts};
use crate::model::{Mount, Scope, TalosConfig, TalosNode, UserVolume};
use crate::source::{Fact, FileId, Location};
use crate::yaml::{Node, Value};
use std::path::Path;

/// One Talos file as read, before its scope can be decided (a node's name may only be known
/// once every VM is read).
#[derive(Debug)]
pub struct TalosFile {
    pub config: TalosConfig,
    /// Node facts the file states (hostname, addresses, link MTU, labels, ...).
    pub node: TalosNode,
    /// The file stem (`cp-1` for `talos/nodes/cp-1.yaml`).
    pub stem: String,
    /// How the file name or location scopes it, when it does.
    pub named_scope: Option<Scope>,
    /// The CNI named in `cluster.network.cni.name`.
    pub cni: Option<Fact<String>>,
    /// `cluster.controlPlane.endpoint`.
    pub endpoint: Option<Fact<String>>,
    /// Disk serials that disk selectors in this file mention.
    pub selected_serials: Vec<String>,
}

impl TalosFile {
    /// The scope: per-node files and role files by name, then a hostname (a node's own patch),
    /// then a file named after a VM, then `machine.type` (a full config for every node of a
    /// role), else every node.
    pub fn scope(&self, is_vm_name: impl Fn(&str) -> bool) -> Scope {
        if let Some(scope) = &self.named_scope {
            return scope.clone();
        }
        // `hostname: ""` names no node (Talos then picks one from DHCP or the platform).
        if let Some(hostname) = self.node.hostname.as_ref().filter(|h| !h.value.is_empty()) {
            return Scope::Node(hostname.value.clone());
        }
        if is_vm_name(&self.stem) {
            return Scope::Node(self.stem.clone());
        }
        match &self.config.machine_type {
            Some(role) => Scope::Role(role.value),
            None => Scope::All,
        }
    }
}

fn named_scope(path: &Path, stem: &str, hostname: Option<&str>) -> Option<Scope> {
    let lower = stem.to_ascii_lowercase();
    if lower.starts_with("controlplane") || lower.starts_with("control-plane") {
        return Some(Scope::Role(Role::Controlplane));
    }
    if lower.starts_with("worker") {
        return Some(Scope::Role(Role::Worker));
    }
    super::discover::in_dir_named(path, "nodes")
        .then(|| Scope::Node(hostname.unwrap_or(stem).to_owned()))
}

/// The operations of a JSON patch (RFC 6902), which Talos also takes as a patch.
const JSON_PATCH_OPS: &[&str] = &["add", "remove", "replace", "move", "copy", "test"];

/// Whether a document is a JSON patch (RFC 6902) of a Talos config: a list of operations on
/// `/machine/…` or `/cluster/…` (talosctl and talhelper take one as a patch).
pub fn is_json_patch(doc: &Node) -> bool {
    doc.as_seq().is_some_and(|ops| {
        !ops.is_empty()
            && ops.iter().all(|op| {
                op.get("op")
                    .and_then(Node::as_str)
                    .is_some_and(|name| JSON_PATCH_OPS.contains(&name))
                    && op.get("path").and_then(Node::as_str).is_some_and(|path| {
                        path.starts_with("/machine/") || path.starts_with("/cluster/")
                    })
            })
    })
}

/// A Talos file's documents as talhorn reads them: a JSON patch becomes the strategic-merge
/// deletes of the paths it removes (`- op: remove` / `path: /cluster/apiServer/admissionControl`
/// is `cluster: {apiServer: {admissionControl: {$patch: delete}}}`), spanned at each operation;
/// its other operations are not read. Other documents are kept as they are.
pub fn as_strategic_merge(docs: Vec<Node>) -> Vec<Node> {
    docs.into_iter()
        .flat_map(|doc| {
            if !is_json_patch(&doc) {
                return vec![doc];
            }
            doc.as_seq()
                .unwrap_or_default()
                .iter()
                .filter(|op| op.get("op").and_then(Node::as_str) == Some("remove"))
                .filter_map(removal_as_delete)
                .collect()
        })
        .collect()
}

/// `path: /a/b` removed, as `a: {b: {$patch: delete}}`; `None` for a path through a list item
/// (`/machine/network/interfaces/0`), which a strategic-merge delete cannot name.
fn removal_as_delete(op: &Node) -> Option<Node> {
    let path = op.get("path")?;
    let keys: Vec<&str> = path.as_str()?.trim_start_matches('/').split('/').collect();
    // No Talos field lies deeper; a longer path would build a tree deeper than any file may.
    const DEEPEST: usize = 32;
    let unnamed = |key: &&str| key.is_empty() || key.parse::<usize>().is_ok() || *key == "-";
    if keys.len() > DEEPEST || keys.iter().any(unnamed) {
        return None;
    }
    let at = op.span;
    let text = |value: &str| Node::new(Value::Str(value.to_owned()), at);
    let delete = Node::new(Value::Map(vec![(text("$patch"), text("delete"))]), at);
    Some(keys.iter().rev().fold(delete, |inner, key| {
        // JSON pointer escapes: `~1` is `/`, `~0` is `~`.
        let key = key.replace("~1", "/").replace("~0", "~");
        Node::new(Value::Map(vec![(text(&key), inner)]), at)
    }))
}

/// Reads every fact of a Talos file.
pub fn read(file: FileId, path: &Path, docs: Vec<Node>) -> TalosFile {
    let docs = as_strategic_merge(docs);
    let origin = Location::file_start(file);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let mut reader = Reader {
        at: Located(file),
        config: TalosConfig::new(Scope::All, origin),
        node: TalosNode::new(stem.clone(), origin),
        cni: None,
        endpoint: None,
        selected_serials: Vec::new(),
    };
    for doc in &docs {
        reader.document(doc);
    }
    reader.config.file = Some(file);
    reader.config.documents = docs;
    let hostname = reader.node.hostname.as_ref().map(|h| h.value.as_str());
    let named_scope = named_scope(path, &stem, hostname);
    reader.node.role = reader.config.machine_type.as_ref().map(|t| t.value);
    TalosFile {
        config: reader.config,
        node: reader.node,
        stem,
        named_scope,
        cni: reader.cni,
        endpoint: reader.endpoint,
        selected_serials: reader.selected_serials,
    }
}

struct Reader {
    at: Located,
    config: TalosConfig,
    node: TalosNode,
    cni: Option<Fact<String>>,
    endpoint: Option<Fact<String>>,
    selected_serials: Vec<String>,
}

impl Reader {
    fn document(&mut self, doc: &Node) {
        match doc.get("kind").and_then(Node::as_str) {
            None => self.legacy(doc),
            Some("UserVolumeConfig") => self.user_volume(doc),
            Some("KernelModuleConfig") => {
                self.config
                    .kernel_modules
                    .extend(str_fact(self.at, doc.get("name")));
            }
            Some("SysctlConfig") => self.sysctls(doc.get("params")),
            Some("HostnameConfig") => {
                self.node.hostname =
                    str_fact(self.at, doc.get("hostname")).or(self.node.hostname.take());
                self.node.network_known = true;
            }
            Some("LinkConfig") => self.link_config(doc),
            // Talos 1.14's replacement of `machine.install`.
            Some("UnattendedInstallConfig") => {
                self.config.install_image = str_fact(self.at, doc.path(&["installer", "image"]));
            }
            Some("Layer2VIPConfig") => self.node.vip = str_fact(self.at, doc.get("name")),
            // Talos 1.14 moved `machine.nodeLabels` here.
            Some("KubeNodeConfig") => {
                self.labels(doc.get("labels"));
                self.control_plane_taint(doc.get("taints"));
            }
            Some("DHCPv4Config" | "DHCPv6Config") => {
                self.node.dhcp = Some(self.at.fact(true, doc.span));
                self.node.network_known = true;
            }
            Some(_) => {}
        }
    }

    fn legacy(&mut self, doc: &Node) {
        let Some(machine) = doc.get("machine") else {
            self.cluster(doc.get("cluster"));
            return;
        };
        self.config.machine_type = machine.get("type").and_then(|t| {
            let role = match t.as_str()? {
                "controlplane" | "init" => Role::Controlplane,
                "worker" => Role::Worker,
                _ => return None,
            };
            Some(self.at.fact(role, t.span))
        });
        let modules = machine
            .path(&["kernel", "modules"])
            .and_then(Node::as_seq)
            .unwrap_or_default();
        let names = modules
            .iter()
            .filter_map(|m| str_fact(self.at, m.get("name")));
        self.config.kernel_modules.extend(names);
        self.sysctls(machine.get("sysctls"));
        self.kubelet(machine);
        self.install(machine.get("install"));
        self.machine_disks(machine.get("disks"));
        self.labels(machine.get("nodeLabels"));
        self.node
            .annotations
            .extend(string_map(self.at, machine.get("nodeAnnotations")));
        self.network(machine.get("network"));
        self.cluster(doc.get("cluster"));
    }

    fn labels(&mut self, labels: Option<&Node>) {
        self.node.labels.extend(string_map(self.at, labels));
    }

    /// Talos 1.14 taints control planes in the generated `KubeNodeConfig`; a patch that deletes
    /// that taint (`taints: {node-role.kubernetes.io/control-plane: {$patch: delete}}`) is how
    /// workloads are allowed there, as `cluster.allowSchedulingOnControlPlanes: true` was before.
    fn control_plane_taint(&mut self, taints: Option<&Node>) {
        let Some(taint) = taints.and_then(|t| t.get(CONTROL_PLANE_TAINT)) else {
            return;
        };
        let deleted = taint.get("$patch").and_then(Node::as_str) == Some("delete");
        self.config.allow_scheduling_on_control_planes = Some(self.at.fact(deleted, taint.span));
    }

    fn cluster(&mut self, cluster: Option<&Node>) {
        let Some(cluster) = cluster else { return };
        if let Some(allow) = bool_fact(self.at, cluster.get("allowSchedulingOnControlPlanes")) {
            self.config.allow_scheduling_on_control_planes = Some(allow);
        }
        if let Some(name) = cluster.path(&["network", "cni", "name"]) {
            self.cni = str_fact(self.at, Some(name));
        }
        if let Some(endpoint) = cluster.path(&["controlPlane", "endpoint"]) {
            self.endpoint = str_fact(self.at, Some(endpoint));
        }
    }

    fn sysctls(&mut self, map: Option<&Node>) {
        let entries = map.and_then(Node::as_map).unwrap_or_default();
        let sysctls = entries
            .iter()
            .filter_map(|(k, v)| Some((k.scalar_text()?, str_fact(self.at, Some(v))?)));
        self.config.sysctls.extend(sysctls);
    }

    fn kubelet(&mut self, machine: &Node) {
        let Some((key, kubelet)) = machine.entry("kubelet") else {
            return;
        };
        self.config.kubelet_at = Some(self.at.loc(key.span));
        let mounts = kubelet
            .get("extraMounts")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        for entry in mounts {
            let text = |k: &str| entry.get(k).and_then(Node::scalar_text).unwrap_or_default();
            let options = entry
                .get("options")
                .and_then(Node::as_seq)
                .unwrap_or_default();
            let mount = Mount {
                destination: text("destination"),
                source: text("source"),
                kind: text("type"),
                options: options.iter().filter_map(Node::scalar_text).collect(),
            };
            self.config
                .extra_mounts
                .push(self.at.fact(mount, entry.span));
        }
    }

    fn install(&mut self, install: Option<&Node>) {
        let Some(install) = install else { return };
        self.config.install_disk = str_fact(self.at, install.get("disk"));
        self.config.install_image = str_fact(self.at, install.get("image"));
        if let Some(serial) = install
            .path(&["diskSelector", "serial"])
            .and_then(Node::scalar_text)
        {
            self.selected_serials.push(serial);
        }
    }

    fn machine_disks(&mut self, disks: Option<&Node>) {
        for disk in disks.and_then(Node::as_seq).unwrap_or_default() {
            let Some(device) = disk.get("device").and_then(Node::scalar_text) else {
                continue;
            };
            let partitions = disk
                .get("partitions")
                .and_then(Node::as_seq)
                .unwrap_or_default();
            let mountpoint = partitions
                .iter()
                .find_map(|p| p.get("mountpoint").and_then(Node::scalar_text));
            let value = MachineDisk { device, mountpoint };
            self.config
                .machine_disks
                .push(self.at.fact(value, disk.span));
        }
    }

    fn user_volume(&mut self, doc: &Node) {
        let text = |keys: &[&str]| doc.path(keys).and_then(Node::scalar_text);
        let selector = text(&["provisioning", "diskSelector", "match"]);
        if let Some(selector) = &selector {
            self.selected_serials.extend(serials_in_selector(selector));
        }
        let volume = UserVolume {
            name: text(&["name"]).unwrap_or_default(),
            volume_type: text(&["volumeType"]).unwrap_or_else(|| "partition".to_owned()),
            disk_selector: selector,
            min_size: text(&["provisioning", "minSize"]),
            max_size: text(&["provisioning", "maxSize"]),
        };
        let span = doc.get("name").map_or(doc.span, |n| n.span);
        self.config.user_volumes.push(self.at.fact(volume, span));
    }

    fn network(&mut self, network: Option<&Node>) {
        let Some(network) = network else { return };
        self.node.network_known = true;
        if let Some(hostname) = str_fact(self.at, network.get("hostname")) {
            self.node.hostname = Some(hostname);
        }
        for interface in network
            .get("interfaces")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let addresses = interface
                .get("addresses")
                .and_then(Node::as_seq)
                .unwrap_or_default();
            self.node
                .addresses
                .extend(addresses.iter().filter_map(|a| str_fact(self.at, Some(a))));
            if let Some(dhcp) = bool_fact(self.at, interface.get("dhcp")) {
                self.node.dhcp = Some(dhcp);
            }
            if let Some(mtu) = u32_fact(self.at, interface.get("mtu")) {
                self.node.link_mtu = Some(mtu);
            }
            if let Some(vip) = str_fact(self.at, interface.path(&["vip", "ip"])) {
                self.node.vip = Some(vip);
            }
            let mac = interface.path(&["deviceSelector", "hardwareAddr"]);
            if let Some(mac) = str_fact(self.at, mac) {
                self.node.mac = Some(mac);
            }
        }
    }

    fn link_config(&mut self, doc: &Node) {
        self.node.network_known = true;
        let addresses = doc
            .get("addresses")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        let addresses = addresses
            .iter()
            .filter_map(|a| str_fact(self.at, a.get("address").or(Some(a))));
        self.node.addresses.extend(addresses);
        if let Some(mtu) = u32_fact(self.at, doc.get("mtu")) {
            self.node.link_mtu = Some(mtu);
        }
    }
}

/// Serials a CEL disk selector compares with: `disk.serial == 'lh-101'`.
fn serials_in_selector(selector: &str) -> Vec<String> {
    let mut serials = Vec::new();
    let mut rest = selector;
    while let Some(index) = rest.find("disk.serial") {
        rest = &rest[index + "disk.serial".len()..];
        let after = rest.trim_start();
        let Some(after) = after.strip_prefix("==") else {
            continue;
        };
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            continue;
        };
        let literal = &after[1..];
        if let Some(end) = literal.find(quote) {
            serials.push(literal[..end].to_owned());
        }
    }
    serials
}

/// The schematic as written: extensions, kernel args and its ID (as written and sorted).
pub fn schematic(file: FileId, doc: &Node) -> SchematicFacts {
    let at = Located(file);
    let list = |keys: &[&str]| -> Vec<Fact<String>> {
        let items = doc.path(keys).and_then(Node::as_seq).unwrap_or_default();
        items.iter().filter_map(|n| str_fact(at, Some(n))).collect()
    };
    let ids = crate::emit::schematic::written_schematic_ids(doc);
    SchematicFacts {
        file: Some(file),
        at: Location::file_start(file),
        extensions: list(&["customization", "systemExtensions", "officialExtensions"]),
        kernel_args: list(&["customization", "extraKernelArgs"]),
        id_as_written: ids.as_ref().map(|i| i.as_written.clone()),
        id_sorted: ids.map(|i| i.sorted),
    }
}

/// `v1.11.6` from an installer image reference (`…/installer/<id>:v1.11.6`), with the span of
/// the tag inside the file when the scalar is written plainly.
pub fn installer_tag(image: &Fact<String>, text: &str) -> Option<Fact<String>> {
    let reference = image.value.rsplit('/').next()?;
    let (_, tag) = reference.rsplit_once(':')?;
    let looks_like_version = tag
        .strip_prefix('v')
        .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()));
    if !looks_like_version {
        return None;
    }
    let span = image.at.span;
    let written = text.get(span.start..span.end).unwrap_or_default();
    let at = match written.rfind(tag) {
        Some(offset) => {
            crate::source::Span::new(span.start + offset, span.start + offset + tag.len())
        }
        None => span,
    };
    Some(Fact::new(tag.to_owned(), Location::new(image.at.file, at)))
}

/// A map of strings (labels, annotations) as written.
fn string_map(at: Located, map: Option<&Node>) -> Vec<(String, Fact<String>)> {
    map.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.scalar_text()?, str_fact(at, Some(v))?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_serials_in_cel_selectors() {
        let serials = serials_in_selector(
            "disk.serial == 'lh-101' || disk.serial==\"lh-102\" && !system_disk",
        );
        assert_eq!(serials, ["lh-101", "lh-102"]);
        assert!(serials_in_selector("disk.size > 10u * GiB").is_empty());
    }

    fn allow_scheduling(text: &str) -> Option<bool> {
        let docs = crate::yaml::parse_documents(text).expect("valid YAML");
        let file = read(FileId(0), Path::new("talos/controlplane.yaml"), docs);
        file.config
            .allow_scheduling_on_control_planes
            .map(|f| f.value)
    }

    #[test]
    fn deleting_the_control_plane_taint_allows_scheduling_there() {
        let deleted = "apiVersion: v1alpha1\nkind: KubeNodeConfig\ntaints:\n  node-role.kubernetes.io/control-plane:\n    $patch: delete\n";
        assert_eq!(allow_scheduling(deleted), Some(true));
        let tainted = "apiVersion: v1alpha1\nkind: KubeNodeConfig\ntaints:\n  node-role.kubernetes.io/control-plane: NoSchedule\n";
        assert_eq!(allow_scheduling(tainted), Some(false));
        let labels_only = "apiVersion: v1alpha1\nkind: KubeNodeConfig\nlabels:\n  a: b\n";
        assert_eq!(allow_scheduling(labels_only), None);
    }

    #[test]
    fn a_cluster_section_without_the_field_keeps_an_earlier_choice() {
        let text = "apiVersion: v1alpha1\nkind: KubeNodeConfig\ntaints:\n  node-role.kubernetes.io/control-plane:\n    $patch: delete\n---\ncluster:\n  clusterName: lab\n";
        assert_eq!(allow_scheduling(text), Some(true));
    }

    /// A JSON patch's removals are read as strategic-merge deletes (the older cluster
    /// template's `disable-admission-controller.yaml`); its other operations are not read, and a
    /// path through a list item cannot be named.
    #[test]
    fn a_json_patch_is_read_as_the_deletes_it_makes() {
        let text = "- op: remove\n  path: /cluster/apiServer/admissionControl\n- op: add\n  path: /machine/kubelet/extraMounts/-\n  value: {destination: /var/lib/longhorn}\n- op: remove\n  path: /machine/network/interfaces/0\n- op: remove\n  path: /machine/nodeLabels/topology.kubernetes.io~1zone\n";
        let docs = crate::yaml::parse_documents(text).unwrap_or_default();
        assert!(is_json_patch(&docs[0]));
        let read = as_strategic_merge(docs);
        let expected = crate::yaml::parse_documents(
            "cluster:\n  apiServer:\n    admissionControl:\n      $patch: delete\n---\nmachine:\n  nodeLabels:\n    topology.kubernetes.io/zone:\n      $patch: delete\n",
        )
        .unwrap_or_default();
        let without_spans = |docs: &[Node]| {
            format!(
                "{:?}",
                docs.iter()
                    .map(crate::yaml::Node::to_json)
                    .collect::<Vec<_>>()
            )
        };
        assert_eq!(without_spans(&read), without_spans(&expected));
        // Each delete points at its operation.
        assert_eq!(
            &text[read[0].span.start..read[0].span.start + 10],
            "op: remove"
        );
        // A list of operations on anything but a Talos config is no Talos patch.
        let other = crate::yaml::parse_documents("- op: remove\n  path: /spec/replicas\n")
            .unwrap_or_default();
        assert!(!is_json_patch(&other[0]));
        // A path deeper than any Talos field is not made into a tree that deep.
        let deep = format!("- op: remove\n  path: /machine{}\n", "/a".repeat(10_000));
        let docs = crate::yaml::parse_documents(&deep).unwrap_or_default();
        assert!(as_strategic_merge(docs).is_empty());
    }
}
