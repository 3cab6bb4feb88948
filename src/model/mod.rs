//! The cluster model: what the rules check and what the emitters write.
//!
//! Two entrances fill it: [`crate::lower`] from an intent file, and [`crate::ingest`] from files in
//! a repository. Every fact keeps the [`Location`] it came from. A fact that no input states is
//! `None` (unknown), and rules that need it stay silent.

pub mod longhorn;
pub mod network;
pub mod proxmox;
pub mod talos;

pub use longhorn::Longhorn;
pub use network::Network;
pub use proxmox::{Bridge, Disk, DiskRole, Host, Nic, Storage, Vm};
pub use talos::{Mount, Scope, Talos, TalosConfig, TalosNode, UserVolume};

use crate::fast_hash::FastMap;
use crate::finding::Finding;
use crate::source::{Fact, Location, SourceMap};
use std::sync::OnceLock;

pub use crate::intent::{Engine, GitOps, Role};

/// Versions that select dialects and key tables. From the intent, from the files (installer tag,
/// chart version) or from `.talhorn.yaml` context; a fact in the files wins over context.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// Talos version as written (`v1.11.6`).
    pub talos: Option<Fact<String>>,
    /// Longhorn chart version as written (`1.10.2`).
    pub longhorn: Option<Fact<String>>,
    /// Proxmox VE major version (8 or 9).
    pub proxmox: Option<Fact<u8>>,
}

/// Everything known about one cluster.
#[derive(Debug, Default)]
pub struct Cluster {
    pub sources: SourceMap,
    pub versions: Versions,
    pub vms: Vec<Vm>,
    pub host: Host,
    pub talos: Talos,
    pub longhorn: Option<Longhorn>,
    pub network: Network,
    /// Findings produced while reading files (parse errors, unknown keys, ...), before rules run.
    pub load_findings: Vec<Finding>,
    /// Parts of files written in a language other than the one a rule's help speaks (a
    /// Terraform VM, a talhelper config), so that a fix is given in the terms of that file.
    pub dialects: Vec<Region>,
    /// Name indexes the joins build for themselves (`..Cluster::default()` when building).
    pub joins: Joins,
}

/// The language of a part of a file, when it is not `qm.conf` or a Talos document as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// A `proxmox_virtual_environment_vm` resource (bpg/proxmox).
    Bpg,
    /// A `proxmox_vm_qemu` resource (Telmate/proxmox).
    Telmate,
    /// The `config_patches` of a `talos_machine_configuration*` resource or data source.
    ConfigPatches,
    /// The `schematic` of a `talos_image_factory_schematic` resource.
    TerraformSchematic,
    /// A `helm_release` of the Longhorn chart (`values`, `set` blocks).
    HelmRelease,
    /// talhelper's `talconfig.yaml`.
    Talhelper,
}

/// A span of a file written in a [`Dialect`].
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub at: Location,
    pub dialect: Dialect,
}

impl Region {
    pub const fn new(at: Location, dialect: Dialect) -> Self {
        Self { at, dialect }
    }
}

/// The VMs and Talos nodes by name, for the joins rules make once per node or VM (a scan each
/// would make them quadratic in the number of nodes). Built on first use: the model is
/// complete by then (ingest and lower fill it, rules only read it). A model that has grown
/// since is scanned instead, and an answer is checked before it is given.
#[derive(Default)]
pub struct Joins(OnceLock<JoinIndex>);

impl std::fmt::Debug for Joins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Joins")
    }
}

struct JoinIndex {
    /// How many VMs and nodes were indexed.
    vms: usize,
    nodes: usize,
    /// The first VM of each name.
    vm_by_name: FastMap<String, usize>,
    /// The first Talos node of each name or hostname.
    node_by_name: FastMap<String, usize>,
}

impl JoinIndex {
    fn new(cluster: &Cluster) -> Self {
        let mut vm_by_name = FastMap::default();
        for (i, vm) in cluster.vms.iter().enumerate() {
            if let Some(name) = &vm.name {
                vm_by_name.entry(name.value.clone()).or_insert(i);
            }
        }
        let mut node_by_name = FastMap::default();
        for (i, node) in cluster.talos.nodes.iter().enumerate() {
            node_by_name.entry(node.name.clone()).or_insert(i);
            if let Some(hostname) = &node.hostname {
                node_by_name.entry(hostname.value.clone()).or_insert(i);
            }
        }
        Self {
            vms: cluster.vms.len(),
            nodes: cluster.talos.nodes.len(),
            vm_by_name,
            node_by_name,
        }
    }
}

impl Cluster {
    /// The innermost region that holds `at` (its start), when one does.
    pub fn region_at(&self, at: Location) -> Option<&Region> {
        self.dialects
            .iter()
            .filter(|r| {
                r.at.file == at.file
                    && r.at.span.start <= at.span.start
                    && at.span.start < r.at.span.end
            })
            .min_by_key(|r| r.at.span.end.saturating_sub(r.at.span.start))
    }

    /// Talos minor version (`11` for v1.11.6), when known.
    pub fn talos_minor(&self) -> Option<u32> {
        let version = self.versions.talos.as_ref()?;
        minor_of(&version.value)
    }

    /// Longhorn chart minor version (`10` for 1.10.2), when known.
    pub fn longhorn_minor(&self) -> Option<u32> {
        let version = self.versions.longhorn.as_ref()?;
        minor_of(&version.value)
    }

    /// The name indexes, unless the model grew after they were built.
    fn joins(&self) -> Option<&JoinIndex> {
        let index = self.joins.0.get_or_init(|| JoinIndex::new(self));
        (index.vms == self.vms.len() && index.nodes == self.talos.nodes.len()).then_some(index)
    }

    /// The VM that runs a Talos node (joined by name, hostname or address).
    pub fn vm_of(&self, node: &TalosNode) -> Option<&Vm> {
        let runs = |vm: &&Vm| {
            vm.name.as_ref().is_some_and(|n| n.value == node.name)
                || node
                    .hostname
                    .as_ref()
                    .zip(vm.name.as_ref())
                    .is_some_and(|(h, n)| h.value == n.value)
        };
        if let Some(index) = self.joins() {
            let hostname = node.hostname.as_ref().map(|h| h.value.as_str());
            let first = [Some(node.name.as_str()), hostname]
                .into_iter()
                .flatten()
                .filter_map(|name| index.vm_by_name.get(name).copied())
                .min();
            match first.map(|i| self.vms.get(i).filter(runs)) {
                None => return None,
                Some(Some(vm)) => return Some(vm),
                Some(None) => {}
            }
        }
        self.vms.iter().find(runs)
    }

    /// The Talos node a VM runs (joined by name).
    pub fn talos_node_of(&self, vm: &Vm) -> Option<&TalosNode> {
        let name = &vm.name.as_ref()?.value;
        let runs = |n: &&TalosNode| {
            &n.name == name || n.hostname.as_ref().is_some_and(|h| &h.value == name)
        };
        if let Some(index) = self.joins() {
            match index
                .node_by_name
                .get(name)
                .map(|&i| self.talos.nodes.get(i).filter(runs))
            {
                None => return None,
                Some(Some(node)) => return Some(node),
                Some(None) => {}
            }
        }
        self.talos.nodes.iter().find(runs)
    }

    /// The role of a VM: stated on the VM (tags, intent) or on its Talos node.
    pub fn role_of(&self, vm: &Vm) -> Option<Role> {
        vm.role
            .or_else(|| self.talos_node_of(vm).and_then(|n| n.role))
    }

    /// Whether a VM is a Longhorn storage node, when that can be known.
    pub fn is_storage_vm(&self, vm: &Vm) -> Option<bool> {
        if let Some(storage) = vm.storage_node {
            return Some(storage);
        }
        let longhorn = self.longhorn.as_ref()?;
        let role = self.role_of(vm)?;
        Some(match role {
            Role::Worker => true,
            Role::Controlplane => longhorn.schedules_on_control_planes(),
        })
    }

    /// The number of Longhorn storage nodes, when every VM's status is known.
    pub fn storage_node_count(&self) -> Option<usize> {
        if self.vms.is_empty() {
            let workers = self
                .talos
                .nodes
                .iter()
                .filter(|n| n.role == Some(Role::Worker))
                .count();
            return (workers > 0).then_some(workers);
        }
        self.vms
            .iter()
            .map(|vm| self.is_storage_vm(vm))
            .try_fold(0, |n, s| s.map(|s| n + usize::from(s)))
    }
}

/// `11` from `v1.11.6`, `10` from `1.10.2`.
pub fn minor_of(version: &str) -> Option<u32> {
    version
        .trim_start_matches('v')
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Location, Span};

    const AT: Location = Location::new(FileId(0), Span::at(0));

    fn vm(name: &str) -> Vm {
        let mut vm = Vm::new(AT);
        vm.name = Some(Fact::new(name.to_owned(), AT));
        vm
    }

    fn node(name: &str, hostname: Option<&str>) -> TalosNode {
        let mut node = TalosNode::new(name, AT);
        node.hostname = hostname.map(|h| Fact::new(h.to_owned(), AT));
        node
    }

    /// The indexed joins give what a scan in model order gives: the first VM by name or
    /// hostname, the first node by name or hostname, also after the model grew.
    #[test]
    fn indexed_joins_answer_as_the_scan_does() {
        let mut cluster = Cluster {
            vms: vec![vm("a"), vm("host-b"), vm("b"), vm("a")],
            ..Cluster::default()
        };
        cluster.talos.nodes = vec![
            node("b", Some("host-b")),
            node("c", None),
            node("x", Some("c")),
        ];
        let vm_index = |n: &TalosNode, c: &Cluster| {
            c.vm_of(n)
                .map(|v| c.vms.iter().position(|w| std::ptr::eq(v, w)).unwrap())
        };
        // By hostname, at an earlier index than the VM of the node's own name.
        assert_eq!(vm_index(&cluster.talos.nodes[0], &cluster), Some(1));
        assert_eq!(vm_index(&node("a", None), &cluster), Some(0));
        assert_eq!(vm_index(&cluster.talos.nodes[1], &cluster), None);
        let node_name = |v: &Vm, c: &Cluster| c.talos_node_of(v).map(|n| n.name.clone());
        assert_eq!(node_name(&vm("host-b"), &cluster), Some("b".into()));
        // The first node named or hostnamed `c`.
        assert_eq!(node_name(&vm("c"), &cluster), Some("c".into()));
        assert_eq!(node_name(&vm("z"), &cluster), None);
        // Grown after the index was built: still found.
        cluster.vms.push(vm("c"));
        cluster.talos.nodes.push(node("z", None));
        assert_eq!(vm_index(&cluster.talos.nodes[1], &cluster), Some(4));
        assert_eq!(node_name(&vm("z"), &cluster), Some("z".into()));
    }

    #[test]
    fn indexed_configs_keep_the_order_of_application() {
        let mut talos = Talos::default();
        let config = |scope: Scope| TalosConfig::new(scope, AT);
        talos.configs = vec![
            config(Scope::Node("n".into())),
            config(Scope::Role(Role::Worker)),
            config(Scope::All),
            config(Scope::Node("m".into())),
            config(Scope::Node("n".into())),
        ];
        let mut n = node("n", None);
        n.role = Some(Role::Worker);
        let order = |t: &Talos, n: &TalosNode| -> Vec<usize> {
            t.configs_for(n)
                .map(|c| t.configs.iter().position(|d| std::ptr::eq(c, d)).unwrap())
                .collect()
        };
        assert_eq!(order(&talos, &n), vec![2, 1, 0, 4]);
        assert_eq!(talos.own_configs(&n).len(), 2);
        talos.configs.push(config(Scope::Node("n".into())));
        assert_eq!(order(&talos, &n), vec![2, 1, 0, 4, 5]);
        assert_eq!(talos.own_configs(&n).len(), 3);
    }
}
