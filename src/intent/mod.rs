//! The intent file (`cluster.yaml`): one small description of the whole stack.
//!
//! [`load`] parses it, validates it against `schemas/intent.schema.json` and the semantic rules
//! (unique names, addresses inside the subnet, pinned versions), and keeps the YAML tree so every
//! value can be located for findings.

mod admits;
mod load;
pub mod size;

pub use load::{LoadedIntent, did_you_mean, endpoint_host, in_subnet, load, load_all, parse_cidr};

use serde::Deserialize;
use std::collections::BTreeMap;

/// The JSON schema of the intent, also printed by `talhorn schema`.
pub const SCHEMA: &str = include_str!("../../schemas/intent.schema.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Intent {
    pub cluster: ClusterSpec,
    pub proxmox: ProxmoxSpec,
    pub network: NetworkSpec,
    #[serde(default)]
    pub talos: TalosSpec,
    pub longhorn: Option<LonghornSpec>,
    #[serde(default)]
    pub defaults: Defaults,
    pub nodes: Vec<NodeSpec>,
}

pub use crate::knowledge::talos::Platform;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    pub name: String,
    pub endpoint: String,
    pub talos: String,
    pub kubernetes: Option<String>,
    /// Shared Layer-2 VIP of the control planes (`interfaces[].vip` / `Layer2VIPConfig`).
    pub vip: Option<String>,
    #[serde(default = "default_platform")]
    pub platform: Platform,
    #[serde(default)]
    pub allow_scheduling_on_control_planes: bool,
}

const fn default_platform() -> Platform {
    Platform::Nocloud
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxmoxSpec {
    pub version: u8,
    pub node: String,
    #[serde(default)]
    pub storage: BTreeMap<String, StorageSpec>,
    #[serde(default)]
    pub bridges: BTreeMap<String, BridgeSpec>,
    pub iso: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageSpec {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub on_zfs: bool,
    pub path: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BridgeSpec {
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkSpec {
    pub bridge: String,
    pub mtu: Option<u32>,
    pub vlan: Option<u16>,
    pub cidr: String,
    pub gateway: String,
    #[serde(default)]
    pub nameservers: Vec<String>,
    pub speed_gbps: Option<f64>,
    pub cni: Option<CniSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CniSpec {
    pub name: String,
    pub mtu: Option<u32>,
    pub encapsulation: Option<String>,
    /// `false` disables kube-proxy (a CNI such as Cilium replaces it); Talos deploys it by default.
    pub kube_proxy: Option<bool>,
}

impl CniSpec {
    /// Whether Talos deploys its own CNI (Flannel); any other choice is installed after bootstrap.
    pub fn talos_deploys(&self) -> bool {
        self.name == "flannel"
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TalosSpec {
    #[serde(default)]
    pub extensions: Vec<String>,
    #[serde(default)]
    pub kernel_args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageNodes {
    Workers,
    All,
    Labeled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GitOps {
    None,
    Flux,
    Argocd,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LonghornSpec {
    pub version: String,
    #[serde(default = "default_engine")]
    pub engine: Engine,
    pub replicas: Option<u32>,
    pub data_disk: Option<DiskSpec>,
    #[serde(default = "default_storage_nodes")]
    pub storage_nodes: StorageNodes,
    pub backup: Option<BackupSpec>,
    #[serde(default = "default_gitops")]
    pub gitops: GitOps,
}

const fn default_engine() -> Engine {
    Engine::V1
}

const fn default_storage_nodes() -> StorageNodes {
    StorageNodes::Workers
}

const fn default_gitops() -> GitOps {
    GitOps::None
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupSpec {
    pub target: String,
    pub credential_secret: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiskSpec {
    pub size: Option<String>,
    pub storage: Option<String>,
    pub bus: Option<String>,
    pub format: Option<String>,
}

/// VM settings that `defaults.<role>` sets and a node may override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmSpec {
    pub cores: Option<u32>,
    pub sockets: Option<u32>,
    pub memory: Option<String>,
    pub cpu: Option<String>,
    pub disk: Option<DiskSpec>,
    pub controller: Option<String>,
    pub tags: Option<Vec<String>>,
    pub onboot: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Defaults {
    pub controlplane: Option<VmSpec>,
    pub worker: Option<VmSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Controlplane,
    Worker,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Controlplane => "controlplane",
            Self::Worker => "worker",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSpec {
    pub name: String,
    pub role: Role,
    pub vmid: u32,
    pub ip: String,
    pub mac: Option<String>,
    pub storage: Option<bool>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub cores: Option<u32>,
    pub sockets: Option<u32>,
    pub memory: Option<String>,
    pub cpu: Option<String>,
    pub disk: Option<DiskSpec>,
    pub controller: Option<String>,
    pub tags: Option<Vec<String>>,
    pub onboot: Option<bool>,
}
