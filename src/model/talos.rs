//! Talos facts: nodes, the machine-config patches that apply to them, and the schematic.

use super::Role;
use crate::source::{Fact, FileId, Location};
use crate::yaml::Node;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Which nodes a config applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every node (a patch applied to both roles, or a role-less file).
    All,
    Role(Role),
    Node(String),
}

impl Scope {
    pub fn covers(&self, node: &TalosNode) -> bool {
        match self {
            Self::All => true,
            Self::Role(role) => node.role == Some(*role),
            Self::Node(name) => &node.name == name,
        }
    }
}

/// A kubelet `extraMounts` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    pub destination: String,
    pub source: String,
    pub kind: String,
    pub options: Vec<String>,
}

/// A `UserVolumeConfig` (Talos ≥ 1.10), mounted at `/var/mnt/<name>`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserVolume {
    pub name: String,
    /// `partition` (default), `directory` or `disk` (≥ 1.12).
    pub volume_type: String,
    /// CEL expression of `provisioning.diskSelector.match`.
    pub disk_selector: Option<String>,
    pub min_size: Option<String>,
    pub max_size: Option<String>,
}

impl UserVolume {
    pub fn mount_point(&self) -> String {
        format!("/var/mnt/{}", self.name)
    }
}

/// A legacy `machine.disks` entry (Talos 1.9).
#[derive(Debug, Clone, PartialEq)]
pub struct MachineDisk {
    pub device: String,
    pub mountpoint: Option<String>,
}

/// One machine-config file or patch (or, from an intent, one generated patch).
#[derive(Debug, Clone)]
pub struct TalosConfig {
    pub file: Option<FileId>,
    pub scope: Scope,
    /// The file's documents (repository files only), for structural rules.
    pub documents: Vec<Node>,
    pub origin: Location,
    pub kernel_modules: Vec<Fact<String>>,
    /// `vm.nr_hugepages` and friends: (key, value).
    pub sysctls: Vec<(String, Fact<String>)>,
    pub extra_mounts: Vec<Fact<Mount>>,
    pub user_volumes: Vec<Fact<UserVolume>>,
    pub machine_disks: Vec<Fact<MachineDisk>>,
    pub install_disk: Option<Fact<String>>,
    pub install_image: Option<Fact<String>>,
    pub machine_type: Option<Fact<Role>>,
    pub allow_scheduling_on_control_planes: Option<Fact<bool>>,
    /// `false`: Talos deploys no CNI of its own (`cluster.network.cni.name: none`).
    pub talos_cni: Option<Fact<bool>>,
    /// `false`: Talos deploys no kube-proxy.
    pub kube_proxy: Option<Fact<bool>>,
    /// The kube-proxy image gen config writes (v1.14's `KubeProxyConfig` requires it).
    pub kube_proxy_image: Option<String>,
    /// Where new list entries belong (e.g. `machine.kubelet`), for "missing" findings.
    pub kubelet_at: Option<Location>,
}

impl TalosConfig {
    pub fn new(scope: Scope, origin: Location) -> Self {
        Self {
            file: None,
            scope,
            documents: Vec::new(),
            origin,
            kernel_modules: Vec::new(),
            sysctls: Vec::new(),
            extra_mounts: Vec::new(),
            user_volumes: Vec::new(),
            machine_disks: Vec::new(),
            install_disk: None,
            install_image: None,
            machine_type: None,
            allow_scheduling_on_control_planes: None,
            talos_cni: None,
            kube_proxy: None,
            kube_proxy_image: None,
            kubelet_at: None,
        }
    }

    pub fn sysctl(&self, key: &str) -> Option<&Fact<String>> {
        self.sysctls.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// A Talos node: from the intent, or from a per-node patch / machine config.
#[derive(Debug, Clone)]
pub struct TalosNode {
    pub name: String,
    pub role: Option<Role>,
    pub at: Location,
    pub hostname: Option<Fact<String>>,
    /// Static addresses (CIDR or bare IP as written).
    pub addresses: Vec<Fact<String>>,
    pub dhcp: Option<Fact<bool>>,
    /// The link MTU set in the Talos network config.
    pub link_mtu: Option<Fact<u32>>,
    pub mac: Option<Fact<String>>,
    /// A shared Layer-2 VIP this node takes part in (`interfaces[].vip.ip`, `Layer2VIPConfig`).
    pub vip: Option<Fact<String>>,
    pub labels: Vec<(String, Fact<String>)>,
    /// Kubernetes node annotations (`machine.nodeAnnotations`, talhelper `nodeAnnotations`).
    pub annotations: Vec<(String, Fact<String>)>,
    /// Whether the node's network config was seen at all (TAL013 needs it).
    pub network_known: bool,
}

impl TalosNode {
    pub fn label(&self, key: &str) -> Option<&Fact<String>> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn annotation(&self, key: &str) -> Option<&Fact<String>> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn new(name: impl Into<String>, at: Location) -> Self {
        Self {
            name: name.into(),
            role: None,
            at,
            hostname: None,
            addresses: Vec::new(),
            dhcp: None,
            link_mtu: None,
            mac: None,
            vip: None,
            labels: Vec::new(),
            annotations: Vec::new(),
            network_known: false,
        }
    }
}

/// The Image Factory schematic the installer is built from.
#[derive(Debug, Clone)]
pub struct SchematicFacts {
    pub file: Option<FileId>,
    pub at: Location,
    /// Extensions as written, in order.
    pub extensions: Vec<Fact<String>>,
    pub kernel_args: Vec<Fact<String>>,
    /// ID of the schematic as written (the factory API does not sort).
    pub id_as_written: Option<String>,
    /// ID after sorting the extensions (what the factory UI produces).
    pub id_sorted: Option<String>,
}

impl SchematicFacts {
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e.value == name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Talos {
    pub nodes: Vec<TalosNode>,
    pub configs: Vec<TalosConfig>,
    pub schematic: Option<SchematicFacts>,
    /// The IDs (as written) of the cluster's other schematic files: a repository may build
    /// different images for different machines (a VM and a bare-metal node).
    pub other_schematic_ids: Vec<String>,
    /// An index [`Self::configs_for`] builds for itself (`..Talos::default()` when building).
    pub by_scope: ConfigIndex,
}

/// The configs by scope, for [`Talos::configs_for`], which rules ask once per node (a scan of
/// every per-node config each time is quadratic in the number of nodes). Built on first use,
/// when the model is complete; configs added since are scanned instead, and every config
/// given is checked to cover the node.
#[derive(Clone, Default)]
pub struct ConfigIndex(OnceLock<ConfigsByScope>);

impl std::fmt::Debug for ConfigIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigIndex")
    }
}

#[derive(Clone)]
struct ConfigsByScope {
    /// How many configs were indexed.
    configs: usize,
    /// The configs for every node or a role, in order.
    shared: Vec<usize>,
    /// Each node's own configs, in order.
    by_node: HashMap<String, Vec<usize>>,
}

impl Talos {
    /// The index of the configs by scope, unless configs were added after it was built.
    fn by_scope(&self) -> Option<&ConfigsByScope> {
        let index = self.by_scope.0.get_or_init(|| {
            let mut index = ConfigsByScope {
                configs: self.configs.len(),
                shared: Vec::new(),
                by_node: HashMap::new(),
            };
            for (i, config) in self.configs.iter().enumerate() {
                match &config.scope {
                    Scope::Node(name) => index.by_node.entry(name.clone()).or_default().push(i),
                    Scope::All | Scope::Role(_) => index.shared.push(i),
                }
            }
            index
        });
        (index.configs == self.configs.len()).then_some(index)
    }

    /// The configs that apply to a node, most general first (the order patches are applied).
    pub fn configs_for<'a>(&'a self, node: &'a TalosNode) -> impl Iterator<Item = &'a TalosConfig> {
        let rank = |c: &TalosConfig| match c.scope {
            Scope::All => 0,
            Scope::Role(_) => 1,
            Scope::Node(_) => 2,
        };
        let mut configs: Vec<&TalosConfig> = match self.by_scope() {
            Some(index) => {
                let own = index.by_node.get(&node.name).map_or(&[][..], Vec::as_slice);
                let mut at: Vec<usize> = index.shared.iter().chain(own).copied().collect();
                at.sort_unstable();
                at.iter()
                    .filter_map(|&i| self.configs.get(i))
                    .filter(|c| c.scope.covers(node))
                    .collect()
            }
            None => self
                .configs
                .iter()
                .filter(|c| c.scope.covers(node))
                .collect(),
        };
        configs.sort_by_key(|c| rank(c));
        configs.into_iter()
    }

    /// A node's own configs (scope `Node` of its name), in order.
    pub fn own_configs<'a>(&'a self, node: &TalosNode) -> Vec<&'a TalosConfig> {
        let own = |c: &&TalosConfig| matches!(&c.scope, Scope::Node(name) if *name == node.name);
        match self.by_scope() {
            Some(index) => index
                .by_node
                .get(&node.name)
                .into_iter()
                .flatten()
                .filter_map(|&i| self.configs.get(i))
                .filter(own)
                .collect(),
            None => self.configs.iter().filter(own).collect(),
        }
    }

    /// The configs that apply to every node of a role.
    pub fn configs_for_role(&self, role: Role) -> impl Iterator<Item = &TalosConfig> {
        self.configs
            .iter()
            .filter(move |c| matches!(c.scope, Scope::All) || c.scope == Scope::Role(role))
    }
}
