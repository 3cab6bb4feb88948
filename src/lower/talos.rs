//! Intent → Talos facts: nodes, the patches that apply to them, and the schematic.

use super::{DATA_DISK_SERIAL, is_storage_node};
use crate::emit::schematic::Schematic;
use crate::intent::{Engine, LoadedIntent, Role};
use crate::knowledge::talos::{DataDiskForm, Dialect};
use crate::model::talos::{MachineDisk, SchematicFacts};
use crate::model::{Mount, Scope, Talos, TalosConfig, TalosNode, UserVolume};
use crate::source::{Fact, Location};

/// Name of the Longhorn user volume: Talos mounts it at `/var/mnt/longhorn`.
pub const USER_VOLUME: &str = "longhorn";
/// 2 MiB hugepages the V2 engine needs for its default 2048 MiB (Longhorn Talos guide).
pub const V2_HUGEPAGES: &str = "1024";
/// Mount options Longhorn needs for its data path in the kubelet (Talos `extraMounts` docs).
pub const MOUNT_OPTIONS: &[&str] = &["bind", "rshared", "rw"];

/// The Talos side of the intent; `macs` are every node's ([`super::node_macs`]).
pub(super) fn talos(intent: &LoadedIntent, pinned: &super::Pinned, macs: &[Fact<String>]) -> Talos {
    let dialect = pinned.dialect;
    let spec = &intent.intent;
    let storage: Vec<usize> = (0..spec.nodes.len())
        .filter(|&i| is_storage_node(intent, i))
        .collect();
    let mut configs = Vec::new();
    if spec.longhorn.is_some() && !storage.is_empty() {
        for scope in storage_scopes(intent, &storage) {
            configs.push(storage_config(intent, dialect, scope, storage[0], macs));
        }
    }
    if spec.cluster.allow_scheduling_on_control_planes {
        let mut cp = TalosConfig::new(Scope::Role(Role::Controlplane), intent.loc("/cluster"));
        cp.allow_scheduling_on_control_planes = Some(Fact::new(
            true,
            intent.loc("/cluster/allowSchedulingOnControlPlanes"),
        ));
        configs.push(cp);
    }
    if let Some(cp) = cni_config(intent, dialect) {
        configs.push(cp);
    }
    let schematic = schematic(intent);
    // Every node installs (and upgrades to) the image built from the schematic.
    let mut all = TalosConfig::new(Scope::All, intent.loc("/talos"));
    all.install_image = Some(Fact::new(
        schematic.installer_image(&pinned.talos, intent.intent.cluster.platform),
        intent.loc("/talos"),
    ));
    configs.insert(0, all);
    let nodes = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let at = intent.loc(&format!("/nodes/{i}"));
            let mut per_node = TalosConfig::new(Scope::Node(node.name.clone()), at);
            per_node.install_disk = Some(Fact::new(install_disk(intent, i), at));
            configs.push(per_node);
            talos_node(intent, i, macs)
        })
        .collect();
    Talos {
        nodes,
        configs,
        schematic: Some(schematic_facts(intent, &schematic)),
        ..Talos::default()
    }
}

/// The control planes' CNI and kube-proxy choice, when the intent departs from Talos's defaults
/// (Flannel, kube-proxy): the cluster settings only take effect on control planes.
fn cni_config(intent: &LoadedIntent, dialect: &Dialect) -> Option<TalosConfig> {
    let cni = intent.intent.network.cni.as_ref()?;
    let mut cp = TalosConfig::new(Scope::Role(Role::Controlplane), intent.loc("/network/cni"));
    if !cni.talos_deploys() {
        cp.talos_cni = Some(Fact::new(false, intent.loc("/network/cni/name")));
    }
    if cni.kube_proxy == Some(false) {
        cp.kube_proxy = Some(Fact::new(false, intent.loc("/network/cni/kubeProxy")));
        let kubernetes = intent
            .intent
            .cluster
            .kubernetes
            .as_deref()
            .unwrap_or(dialect.default_kubernetes);
        cp.kube_proxy_image = Some(format!(
            "{}:v{}",
            crate::knowledge::talos::KUBE_PROXY_IMAGE,
            kubernetes.trim_start_matches('v')
        ));
    }
    (cp.talos_cni.is_some() || cp.kube_proxy.is_some()).then_some(cp)
}

/// The narrowest scopes that cover exactly the storage nodes.
fn storage_scopes(intent: &LoadedIntent, storage: &[usize]) -> Vec<Scope> {
    let nodes = &intent.intent.nodes;
    let of_role = |role: Role| {
        (0..nodes.len())
            .filter(|&i| nodes[i].role == role)
            .collect::<Vec<_>>()
    };
    if storage.len() == nodes.len() {
        vec![Scope::All]
    } else if storage == of_role(Role::Worker).as_slice() {
        vec![Scope::Role(Role::Worker)]
    } else if storage == of_role(Role::Controlplane).as_slice() {
        vec![Scope::Role(Role::Controlplane)]
    } else {
        storage
            .iter()
            .map(|&i| Scope::Node(nodes[i].name.clone()))
            .collect()
    }
}

fn storage_config(
    intent: &LoadedIntent,
    dialect: &Dialect,
    scope: Scope,
    first_storage_node: usize,
    macs: &[Fact<String>],
) -> TalosConfig {
    let at = intent.key_loc("/longhorn");
    let disk_at = if intent.has("/longhorn/dataDisk") {
        intent.loc("/longhorn/dataDisk")
    } else {
        at
    };
    let mut config = TalosConfig::new(scope, at);
    let data_path = super::longhorn::data_path(dialect);
    match dialect.data_disk {
        DataDiskForm::UserVolumeConfig => config.user_volumes.push(Fact::new(
            UserVolume {
                name: USER_VOLUME.into(),
                volume_type: "partition".into(),
                disk_selector: crate::knowledge::talos::serial_selector(
                    super::data_disk_bus(intent).as_str(),
                    DATA_DISK_SERIAL,
                ),
                min_size: Some("10GiB".into()),
                max_size: None,
            },
            disk_at,
        )),
        DataDiskForm::MachineDisks => config.machine_disks.push(Fact::new(
            MachineDisk {
                device: data_device(intent, first_storage_node, macs),
                mountpoint: Some(data_path.to_string()),
            },
            disk_at,
        )),
    }
    if dialect.legacy_kubernetes_fields {
        config.extra_mounts.push(Fact::new(
            Mount {
                destination: data_path.to_string(),
                source: data_path.to_string(),
                kind: "bind".into(),
                options: MOUNT_OPTIONS.iter().map(|o| (*o).to_string()).collect(),
            },
            at,
        ));
    }
    if intent
        .intent
        .longhorn
        .as_ref()
        .is_some_and(|l| l.engine == Engine::V2)
    {
        let engine_at = intent.loc("/longhorn/engine");
        config.sysctls.push((
            "vm.nr_hugepages".into(),
            Fact::new(V2_HUGEPAGES.into(), engine_at),
        ));
        for module in crate::knowledge::talos::LONGHORN_V2_MODULES {
            config
                .kernel_modules
                .push(Fact::new((*module).to_string(), engine_at));
        }
    }
    config
}

/// The data disk's device for Talos 1.9, which has no disk selectors: its guest name on the
/// first storage node's VM (nodes that differ are caught by TAL007).
fn data_device(intent: &LoadedIntent, first_storage_node: usize, macs: &[Fact<String>]) -> String {
    let vm = super::proxmox::vm(intent, first_storage_node, macs);
    vm.data_disks()
        .next()
        .and_then(|disk| vm.guest_device(disk))
        .unwrap_or_else(|| "/dev/sdb".to_string())
}

/// The install disk: the first disk of the OS disk's bus (`virtio0` is `/dev/vda`).
fn install_disk(intent: &LoadedIntent, index: usize) -> String {
    let r = super::Resolved::new(intent, index);
    let virtio = r
        .get(
            |n| n.disk.as_ref()?.bus.clone(),
            |d| d.disk.as_ref()?.bus.clone(),
        )
        .is_some_and(|b| b == "virtio");
    if virtio { "/dev/vda" } else { "/dev/sda" }.to_string()
}

pub fn schematic(intent: &LoadedIntent) -> Schematic {
    Schematic::new(
        intent.intent.talos.extensions.clone(),
        intent.intent.talos.kernel_args.clone(),
    )
}

fn schematic_facts(intent: &LoadedIntent, schematic: &Schematic) -> SchematicFacts {
    let at = if intent.has("/talos/extensions") {
        intent.loc("/talos/extensions")
    } else {
        intent.key_loc("/cluster")
    };
    let located = |pointer: &str, values: &[String]| -> Vec<Fact<String>> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Fact::new(v.clone(), intent.loc(&format!("{pointer}/{i}"))))
            .collect()
    };
    let id = schematic.id();
    SchematicFacts {
        file: None,
        at,
        extensions: located("/talos/extensions", &intent.intent.talos.extensions),
        kernel_args: located("/talos/kernelArgs", &intent.intent.talos.kernel_args),
        id_as_written: Some(id.clone()),
        id_sorted: Some(id),
    }
}

fn talos_node(intent: &LoadedIntent, index: usize, macs: &[Fact<String>]) -> TalosNode {
    let spec = &intent.intent;
    let node = &spec.nodes[index];
    let at: Location = intent.loc(&format!("/nodes/{index}"));
    let mut talos = TalosNode::new(node.name.clone(), at);
    talos.role = Some(node.role);
    talos.hostname = Some(Fact::new(
        node.name.clone(),
        intent.loc(&format!("/nodes/{index}/name")),
    ));
    let prefix = spec.network.cidr.split_once('/').map_or("24", |(_, p)| p);
    talos.addresses = vec![Fact::new(
        format!("{}/{prefix}", node.ip),
        intent.loc(&format!("/nodes/{index}/ip")),
    )];
    talos.dhcp = Some(Fact::new(false, at));
    let bridge_mtu = spec
        .proxmox
        .bridges
        .get(&spec.network.bridge)
        .and_then(|b| b.mtu);
    talos.link_mtu = match (spec.network.mtu, bridge_mtu) {
        (Some(mtu), _) => Some(Fact::new(mtu, intent.loc("/network/mtu"))),
        (None, Some(mtu)) if mtu != 1500 => Some(Fact::new(
            mtu,
            intent.loc(&format!("/proxmox/bridges/{}/mtu", spec.network.bridge)),
        )),
        _ => None,
    };
    talos.vip = spec
        .cluster
        .vip
        .clone()
        .filter(|_| node.role == Role::Controlplane)
        .map(|vip| Fact::new(vip, intent.loc("/cluster/vip")));
    talos.mac = macs
        .get(index)
        .map(|mac| Fact::new(mac.value.to_lowercase(), mac.at));
    let mut labels: Vec<(String, Fact<String>)> = node
        .labels
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Fact::new(
                    v.clone(),
                    intent.loc(&format!(
                        "/nodes/{index}/labels/{}",
                        k.replace('~', "~0").replace('/', "~1")
                    )),
                ),
            )
        })
        .collect();
    let labeled = spec
        .longhorn
        .as_ref()
        .is_some_and(|l| l.storage_nodes == crate::intent::StorageNodes::Labeled);
    if labeled && is_storage_node(intent, index) && !node.labels.contains_key(DEFAULT_DISK_LABEL) {
        labels.push((DEFAULT_DISK_LABEL.into(), Fact::new("true".into(), at)));
    }
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    talos.labels = labels;
    talos.network_known = true;
    talos
}

/// The node label that makes Longhorn create its default disk when
/// `createDefaultDiskLabeledNodes` is on.
pub const DEFAULT_DISK_LABEL: &str = "node.longhorn.io/create-default-disk";
