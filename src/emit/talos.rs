//! `talos/`: strategic-merge patches per role and per node, in the dialect of the target Talos
//! version (DESIGN §4). Every non-legacy document carries `apiVersion`/`kind` (+ `name`).

use super::yaml_out::{documents, set_path};
use crate::intent::{LoadedIntent, Role};
use crate::knowledge::talos::{
    CONTROL_PLANE_TAINT, ClusterNetworkForm, Dialect, InstallForm, KernelForm, NetworkForm,
};
use crate::model::{Scope, Talos, TalosConfig, TalosNode};
use serde_json::{Value as Json, json};

/// The link of a node without a MAC (Proxmox's first virtio NIC). Nodes built from an intent
/// always have one (given, or derived for the VM), so this is only the model's fallback.
pub const DEFAULT_INTERFACE: &str = "ens18";

/// The `LinkAliasConfig` name of the node's NIC, selected by MAC (Talos ≥ 1.12).
pub const LINK_ALIAS: &str = "net0";

/// Documents for a set of configs that apply together, legacy document first.
#[derive(Default)]
struct Patch {
    machine: Json,
    extra: Vec<Json>,
}

impl Patch {
    fn set(&mut self, path: &str, value: Json) {
        set_path(&mut self.machine, path, value);
    }

    fn push_list(&mut self, path: &str, items: impl IntoIterator<Item = Json>) {
        let items: Vec<Json> = items.into_iter().collect();
        if !items.is_empty() {
            self.set(path, Json::Array(items));
        }
    }

    fn allow_scheduling_on_control_planes(&mut self, dialect: &Dialect) {
        if dialect.legacy_kubernetes_fields {
            self.set("cluster.allowSchedulingOnControlPlanes", json!(true));
        } else {
            // v1.14's gen config puts the control-plane taint in `KubeNodeConfig.taints` and
            // rejects `cluster.allowSchedulingOnControlPlanes` next to it (`k8s/node.go`), so
            // the patch deletes the taint instead.
            self.extra.push(json!({
                "apiVersion": "v1alpha1",
                "kind": "KubeNodeConfig",
                "taints": { CONTROL_PLANE_TAINT: { "$patch": "delete" } },
            }));
        }
    }

    fn add_install(&mut self, config: &TalosConfig, dialect: &Dialect) {
        let image = config.install_image.as_ref().map(|i| &i.value);
        let disk = config.install_disk.as_ref().map(|d| &d.value);
        match dialect.install {
            InstallForm::MachineInstall => {
                if let Some(image) = image {
                    self.set("machine.install.image", json!(image));
                }
                if let Some(disk) = disk {
                    self.set("machine.install.disk", json!(disk));
                }
            }
            InstallForm::UnattendedInstallConfig if image.is_some() || disk.is_some() => {
                // Patches the document gen config writes (it has no name: one per config).
                let mut doc =
                    json!({ "apiVersion": "v1alpha1", "kind": "UnattendedInstallConfig" });
                if let Some(image) = image {
                    set_path(&mut doc, "installer.image", json!(image));
                }
                if let Some(disk) = disk {
                    let selector = format!("disk.dev_path == \"{disk}\"");
                    set_path(&mut doc, "provisioning.diskSelector.match", json!(selector));
                }
                self.extra.push(doc);
            }
            InstallForm::UnattendedInstallConfig => {}
        }
    }

    fn add_config(&mut self, config: &TalosConfig, dialect: &Dialect) {
        self.add_install(config, dialect);
        self.push_list(
            "machine.kubelet.extraMounts",
            config.extra_mounts.iter().map(|m| {
                json!({
                    "destination": m.value.destination,
                    "type": m.value.kind,
                    "source": m.value.source,
                    "options": m.value.options,
                })
            }),
        );
        self.push_list(
            "machine.disks",
            config.machine_disks.iter().map(|d| {
                json!({ "device": d.value.device, "partitions": [{ "mountpoint": d.value.mountpoint }] })
            }),
        );
        match dialect.kernel {
            KernelForm::MachineKernel => {
                self.push_list(
                    "machine.kernel.modules",
                    config
                        .kernel_modules
                        .iter()
                        .map(|m| json!({ "name": m.value })),
                );
                for (key, value) in &config.sysctls {
                    let Json::Object(machine) = &mut self.machine else {
                        continue;
                    };
                    let sysctls = machine
                        .entry("machine")
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .map(|m| m.entry("sysctls").or_insert_with(|| json!({})));
                    if let Some(Json::Object(sysctls)) = sysctls {
                        sysctls.insert(key.clone(), json!(value.value));
                    }
                }
            }
            KernelForm::KernelDocuments => {
                for module in &config.kernel_modules {
                    self.extra.push(json!({ "apiVersion": "v1alpha1", "kind": "KernelModuleConfig", "name": module.value }));
                }
                if !config.sysctls.is_empty() {
                    let params: serde_json::Map<String, Json> = config
                        .sysctls
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v.value)))
                        .collect();
                    self.extra.push(json!({ "apiVersion": "v1alpha1", "kind": "SysctlConfig", "params": params }));
                }
            }
        }
        if config
            .allow_scheduling_on_control_planes
            .as_ref()
            .is_some_and(|f| f.value)
        {
            self.allow_scheduling_on_control_planes(dialect);
        }
        self.add_cluster_network(config, dialect);
        for volume in &config.user_volumes {
            let v = &volume.value;
            let mut provisioning =
                json!({ "diskSelector": { "match": v.disk_selector }, "grow": true });
            if let Some(min) = &v.min_size {
                set_path(&mut provisioning, "minSize", json!(min));
            }
            self.extra.push(json!({
                "apiVersion": "v1alpha1",
                "kind": "UserVolumeConfig",
                "name": v.name,
                "provisioning": provisioning,
                "filesystem": { "type": "xfs" },
            }));
        }
    }

    /// `cluster.network.cni.name: none` / `cluster.proxy.disabled: true`, or from v1.14 the
    /// deletion of gen config's `KubeFlannelCNIConfig` and a disabled `KubeProxyConfig`.
    fn add_cluster_network(&mut self, config: &TalosConfig, dialect: &Dialect) {
        let no_cni = config.talos_cni.as_ref().is_some_and(|f| !f.value);
        let no_proxy = config.kube_proxy.as_ref().is_some_and(|f| !f.value);
        match dialect.cluster_network {
            ClusterNetworkForm::ClusterConfig => {
                if no_cni {
                    self.set("cluster.network.cni.name", json!("none"));
                }
                if no_proxy {
                    self.set("cluster.proxy.disabled", json!(true));
                }
            }
            ClusterNetworkForm::KubeDocuments => {
                if no_cni {
                    self.extra.push(json!({ "apiVersion": "v1alpha1", "kind": "KubeFlannelCNIConfig", "$patch": "delete" }));
                }
                if no_proxy {
                    // The document requires `image`; the patch repeats the one gen config writes.
                    self.extra.push(json!({ "apiVersion": "v1alpha1", "kind": "KubeProxyConfig", "enabled": false, "image": config.kube_proxy_image }));
                }
            }
        }
    }

    fn add_node(&mut self, node: &TalosNode, intent: &LoadedIntent, dialect: &Dialect) {
        let network = &intent.intent.network;
        let addresses: Vec<String> = node.addresses.iter().map(|a| a.value.clone()).collect();
        let hostname = node
            .hostname
            .as_ref()
            .map_or(node.name.clone(), |h| h.value.clone());
        if !node.labels.is_empty() {
            let labels: serde_json::Map<String, Json> = node
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v.value)))
                .collect();
            if dialect.legacy_kubernetes_fields {
                self.set("machine.nodeLabels", Json::Object(labels));
            } else {
                // The v1.14 schema has no `machine.nodeLabels`; `KubeNodeConfig.labels` replaces it.
                self.extra.push(
                    json!({ "apiVersion": "v1alpha1", "kind": "KubeNodeConfig", "labels": labels }),
                );
            }
        }
        match dialect.network {
            NetworkForm::MachineNetwork => {
                let mut iface = match &node.mac {
                    Some(mac) => json!({ "deviceSelector": { "hardwareAddr": mac.value } }),
                    None => json!({ "interface": DEFAULT_INTERFACE }),
                };
                set_path(&mut iface, "addresses", json!(addresses));
                let default_route = json!({ "network": "0.0.0.0/0", "gateway": network.gateway });
                set_path(&mut iface, "routes", json!([default_route]));
                if let Some(mtu) = &node.link_mtu {
                    set_path(&mut iface, "mtu", json!(mtu.value));
                }
                set_path(&mut iface, "dhcp", json!(false));
                if let Some(vip) = &node.vip {
                    set_path(&mut iface, "vip", json!({ "ip": vip.value }));
                }
                self.set("machine.network.hostname", json!(hostname));
                self.set("machine.network.interfaces", json!([iface]));
                if !network.nameservers.is_empty() {
                    self.set("machine.network.nameservers", json!(network.nameservers));
                }
            }
            NetworkForm::NetworkDocuments => {
                self.extra.push(json!({ "apiVersion": "v1alpha1", "kind": "HostnameConfig", "hostname": hostname, "auto": "off" }));
                // Select the NIC by its MAC when the intent has one: an alias the other
                // documents name instead of a kernel link name that may differ.
                let link_name = match &node.mac {
                    Some(mac) => {
                        self.extra.push(json!({
                            "apiVersion": "v1alpha1",
                            "kind": "LinkAliasConfig",
                            "name": LINK_ALIAS,
                            "selector": { "match": format!("mac(link.permanent_addr) == \"{}\"", mac.value) },
                        }));
                        LINK_ALIAS.to_string()
                    }
                    None => DEFAULT_INTERFACE.to_string(),
                };
                let mut link = json!({
                    "apiVersion": "v1alpha1",
                    "kind": "LinkConfig",
                    "name": link_name,
                    "up": true,
                });
                if let Some(mtu) = &node.link_mtu {
                    set_path(&mut link, "mtu", json!(mtu.value));
                }
                set_path(
                    &mut link,
                    "addresses",
                    Json::Array(addresses.iter().map(|a| json!({ "address": a })).collect()),
                );
                // No `destination`: Talos ≥ 1.12 rejects `0.0.0.0/0` (TAL018), a route with
                // only a gateway is the default route.
                set_path(&mut link, "routes", json!([{ "gateway": network.gateway }]));
                self.extra.push(link);
                if let Some(vip) = &node.vip {
                    self.extra.push(json!({
                        "apiVersion": "v1alpha1",
                        "kind": "Layer2VIPConfig",
                        "name": vip.value,
                        "link": link_name,
                    }));
                }
                if !network.nameservers.is_empty() {
                    let nameservers: Vec<Json> = network
                        .nameservers
                        .iter()
                        .map(|n| json!({ "address": n }))
                        .collect();
                    self.extra.push(json!({ "apiVersion": "v1alpha1", "kind": "ResolverConfig", "nameservers": nameservers }));
                }
            }
        }
    }

    fn documents(self) -> Vec<Json> {
        let legacy = self.machine.as_object().is_some_and(|m| !m.is_empty());
        legacy
            .then_some(self.machine)
            .into_iter()
            .chain(self.extra)
            .collect()
    }
}

fn role_patch(talos: &Talos, role: Role, dialect: &Dialect) -> Vec<Json> {
    let mut patch = Patch::default();
    for config in talos
        .configs
        .iter()
        .filter(|c| c.scope == Scope::All || c.scope == Scope::Role(role))
    {
        patch.add_config(config, dialect);
    }
    patch.documents()
}

fn node_patch(
    talos: &Talos,
    node: &TalosNode,
    intent: &LoadedIntent,
    dialect: &Dialect,
) -> Vec<Json> {
    let mut patch = Patch::default();
    for config in talos.own_configs(node) {
        patch.add_config(config, dialect);
    }
    patch.add_node(node, intent, dialect);
    patch.documents()
}

/// The files under `talos/` (except the schematic): (relative path, content).
pub fn files(
    talos: &Talos,
    intent: &LoadedIntent,
    dialect: &Dialect,
    header: &str,
) -> Result<Vec<(String, String)>, String> {
    // Sized up front: growing a list of a thousand files reallocates it, and glibc merges every
    // freed small block each time a large one is asked for.
    let mut files = Vec::with_capacity(2 + talos.nodes.len());
    for role in [Role::Controlplane, Role::Worker] {
        let docs = role_patch(talos, role, dialect);
        files.push((format!("{}.yaml", role.as_str()), documents(header, &docs)?));
    }
    for node in &talos.nodes {
        files.push((
            format!("nodes/{}.yaml", node.name),
            documents(header, &node_patch(talos, node, intent, dialect))?,
        ));
    }
    Ok(files)
}
