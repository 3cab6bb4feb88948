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

use crate::finding::Finding;
use crate::source::{Fact, Location, SourceMap};

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

    /// The VM that runs a Talos node (joined by name, hostname or address).
    pub fn vm_of(&self, node: &TalosNode) -> Option<&Vm> {
        self.vms.iter().find(|vm| {
            vm.name.as_ref().is_some_and(|n| n.value == node.name)
                || node
                    .hostname
                    .as_ref()
                    .zip(vm.name.as_ref())
                    .is_some_and(|(h, n)| h.value == n.value)
        })
    }

    /// The Talos node a VM runs (joined by name).
    pub fn talos_node_of(&self, vm: &Vm) -> Option<&TalosNode> {
        let name = &vm.name.as_ref()?.value;
        self.talos
            .nodes
            .iter()
            .find(|n| &n.name == name || n.hostname.as_ref().is_some_and(|h| &h.value == name))
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
