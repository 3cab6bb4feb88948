//! Lowering an intent into the cluster model: defaults applied, recommendations chosen, every
//! fact located in the intent file (where the value was written, or the node entry it applies to
//! when it is a default), so rules report intent mistakes at the right line.

mod longhorn;
mod proxmox;
mod talos;

use crate::intent::{LoadedIntent, Role, VmSpec};
use crate::knowledge::talos::Dialect;
use crate::model::network::Cni;
use crate::model::{Cluster, Network};
use crate::source::{Fact, Location};
use crate::yaml::Node;
use std::collections::HashSet;

pub use talos::schematic;

/// Adds an intent's VMs, host, Talos, Longhorn and network facts to `cluster`, in the dialect of
/// its Talos version.
pub fn lower(intent: &LoadedIntent, pinned: &Pinned, cluster: &mut Cluster) {
    let dialect = pinned.dialect;
    let spec = &intent.intent;
    // Facts the files state win; the intent fills in what is still unknown.
    let versions = &mut cluster.versions;
    versions
        .talos
        .get_or_insert_with(|| Fact::new(spec.cluster.talos.clone(), intent.loc("/cluster/talos")));
    if let Some(l) = &spec.longhorn {
        versions
            .longhorn
            .get_or_insert_with(|| Fact::new(l.version.clone(), intent.loc("/longhorn/version")));
    }
    versions
        .proxmox
        .get_or_insert_with(|| Fact::new(spec.proxmox.version, intent.loc("/proxmox/version")));
    let host = proxmox::host(intent);
    cluster.host.storages.extend(host.storages);
    cluster.host.bridges.extend(host.bridges);
    // Derived once: each MAC depends on the ones before it.
    let macs = node_macs(intent);
    // The VMs and the Talos nodes are lowered apart, each node on its own, on the workers
    // (most of a thousand-node build's lowering).
    let (vms, talos) = crate::yaml::on_workers(|| {
        use rayon::prelude::*;
        rayon::join(
            || {
                (0..spec.nodes.len())
                    .into_par_iter()
                    .map(|i| proxmox::vm(intent, i, &macs))
                    .collect::<Vec<_>>()
            },
            || talos::talos(intent, pinned, &macs),
        )
    });
    cluster.vms.extend(vms);
    cluster.talos.nodes.extend(talos.nodes);
    cluster.talos.configs.extend(talos.configs);
    if cluster.talos.schematic.is_none() {
        cluster.talos.schematic = talos.schematic;
    }
    if cluster.longhorn.is_none() {
        cluster.longhorn = longhorn::longhorn(intent, dialect);
    }
    let network = network(intent);
    let net = &mut cluster.network;
    net.cidr = net.cidr.take().or(network.cidr);
    net.gateway = net.gateway.take().or(network.gateway);
    net.speed_gbps = net.speed_gbps.take().or(network.speed_gbps);
    net.cni = net.cni.take().or(network.cni);
    net.endpoint = net.endpoint.take().or(network.endpoint);
}

fn network(intent: &LoadedIntent) -> Network {
    let spec = &intent.intent.network;
    Network {
        cidr: crate::intent::parse_cidr(&spec.cidr)
            .map(|c| Fact::new(c, intent.loc("/network/cidr"))),
        gateway: spec
            .gateway
            .parse()
            .ok()
            .map(|g| Fact::new(g, intent.loc("/network/gateway"))),
        speed_gbps: spec
            .speed_gbps
            .map(|s| Fact::new(s, intent.loc("/network/speedGbps"))),
        cni: spec.cni.as_ref().map(|cni| Cni {
            name: Fact::new(cni.name.clone(), intent.loc("/network/cni/name")),
            mtu: cni
                .mtu
                .map(|m| Fact::new(m, intent.loc("/network/cni/mtu"))),
            encapsulation: cni
                .encapsulation
                .clone()
                .map(|e| Fact::new(e, intent.loc("/network/cni/encapsulation"))),
        }),
        endpoint: Some(Fact::new(
            intent.intent.cluster.endpoint.clone(),
            intent.loc("/cluster/endpoint"),
        )),
    }
}

/// One setting of a node: the node's own value, else its role's default, located where it was
/// written (or at the node entry when neither sets it).
pub(crate) struct Resolved<'a> {
    intent: &'a LoadedIntent,
    index: usize,
    role: Role,
    /// The YAML of `/nodes/<index>` and of `/defaults/<role>` if written, found once: every
    /// fact of every node is located in them.
    node_yaml: &'a Node,
    defaults_yaml: Option<&'a Node>,
}

impl<'a> Resolved<'a> {
    pub(crate) fn new(intent: &'a LoadedIntent, index: usize) -> Self {
        let role = intent.intent.nodes[index].role;
        Self {
            intent,
            index,
            role,
            node_yaml: intent.root.at_pointer(&format!("/nodes/{index}")),
            defaults_yaml: intent.root.path(&["defaults", role.as_str()]),
        }
    }

    fn defaults(&self) -> Option<&'a VmSpec> {
        match self.role {
            Role::Controlplane => self.intent.intent.defaults.controlplane.as_ref(),
            Role::Worker => self.intent.intent.defaults.worker.as_ref(),
        }
    }

    /// Where a field is written: `/nodes/i/<field>`, else `/defaults/<role>/<field>`, else the node.
    pub(crate) fn loc(&self, field: &str) -> Location {
        let written = self
            .node_yaml
            .get(field)
            .or_else(|| self.defaults_yaml.and_then(|d| d.get(field)))
            .unwrap_or(self.node_yaml);
        Location::new(self.intent.file, written.span)
    }

    pub(crate) fn node_loc(&self) -> Location {
        Location::new(self.intent.file, self.node_yaml.span)
    }

    /// A setting from the node or its role defaults.
    pub(crate) fn get<T: Clone>(
        &self,
        node_value: impl Fn(&crate::intent::NodeSpec) -> Option<T>,
        default_value: impl Fn(&VmSpec) -> Option<T>,
    ) -> Option<T> {
        node_value(&self.intent.intent.nodes[self.index])
            .or_else(|| self.defaults().and_then(default_value))
    }
}

/// Whether node `index` carries a Longhorn data disk.
pub(crate) fn is_storage_node(intent: &LoadedIntent, index: usize) -> bool {
    use crate::intent::StorageNodes;
    let spec = &intent.intent;
    let Some(longhorn) = &spec.longhorn else {
        return false;
    };
    let node = &spec.nodes[index];
    node.storage.unwrap_or(match longhorn.storage_nodes {
        StorageNodes::Workers => {
            node.role == Role::Worker || spec.cluster.allow_scheduling_on_control_planes
        }
        StorageNodes::All => true,
        StorageNodes::Labeled => false,
    })
}

/// Proxmox's own MAC prefix (datacenter `mac_prefix` default): derived MACs look like the ones
/// Proxmox would have generated.
pub const MAC_PREFIX: [u8; 3] = [0xBC, 0x24, 0x11];

/// Every node's NIC MAC, upper case, located: as written, else derived from the cluster and
/// node name (sha256, Proxmox's prefix), so the MAC → IP table and Talos's link selection hold
/// before Proxmox ever sees the VM. A derived MAC that collides with an earlier node's is
/// derived again with a counter.
pub(crate) fn node_macs(intent: &LoadedIntent) -> Vec<Fact<String>> {
    use sha2::{Digest, Sha256};
    let spec = &intent.intent;
    let given: HashSet<String> = spec
        .nodes
        .iter()
        .filter_map(|n| n.mac.as_ref().map(|m| m.to_uppercase()))
        .collect();
    let mut taken: HashSet<String> = HashSet::new();
    spec.nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            if let Some(mac) = &node.mac {
                let mac = mac.to_uppercase();
                taken.insert(mac.clone());
                return Fact::new(mac, intent.loc(&format!("/nodes/{i}/mac")));
            }
            let mac = (0u32..)
                .map(|round| {
                    let seed = format!("{}/{}/{round}", spec.cluster.name, node.name);
                    let hash = Sha256::digest(seed.as_bytes());
                    MAC_PREFIX
                        .iter()
                        .chain(&hash[..3])
                        .map(|b| format!("{b:02X}"))
                        .collect::<Vec<_>>()
                        .join(":")
                })
                .find(|mac| !taken.contains(mac) && !given.contains(mac))
                .unwrap_or_default();
            taken.insert(mac.clone());
            Fact::new(mac, intent.loc(&format!("/nodes/{i}")))
        })
        .collect()
}

/// The Proxmox serial of the Longhorn data disk; Talos selects the disk by it.
pub const DATA_DISK_SERIAL: &str = "longhorn-data";

/// The bus of the Longhorn data disk: as written, else VirtIO Block, the one bus on which Talos
/// shows the disk's serial (`knowledge::talos::DISK_IDENTITY`).
pub(crate) fn data_disk_bus(intent: &LoadedIntent) -> crate::model::proxmox::Bus {
    use crate::model::proxmox::Bus;
    let bus = intent
        .intent
        .longhorn
        .as_ref()
        .and_then(|l| l.data_disk.as_ref()?.bus.clone());
    match bus.as_deref() {
        Some("scsi") => Bus::Scsi,
        _ => Bus::Virtio,
    }
}
/// Slot of the Longhorn data disk on each bus (the OS disk is slot 0).
pub const DATA_DISK_INDEX: u32 = 1;

/// The versions an intent pins, looked up in the knowledge tables.
pub struct Pinned {
    pub talos: crate::knowledge::talos::TalosVersion,
    pub dialect: &'static Dialect,
    pub chart: Option<crate::knowledge::longhorn::ChartVersion>,
}

/// Checks the pinned versions: older than supported is an error (INT003), newer than known a
/// warning (the newest known dialect and key table are used).
pub fn pin_versions(
    intent: &LoadedIntent,
) -> Result<(Pinned, Vec<crate::finding::Finding>), Vec<crate::finding::Finding>> {
    use crate::finding::{Finding, Severity};
    use crate::knowledge::longhorn::{ChartVersion, Support};
    use crate::knowledge::talos::{DIALECTS, DialectLookup, TalosVersion, dialect};
    let mut warnings = Vec::new();
    let error = |pointer: &str, message: String| {
        vec![Finding::new(
            "INT003",
            Severity::Error,
            intent.loc(pointer),
            message,
        )]
    };
    let known = || {
        DIALECTS
            .iter()
            .map(|d| format!("v1.{}", d.minor))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let talos = TalosVersion::parse(&intent.intent.cluster.talos)
        .map_err(|e| error("/cluster/talos", format!("invalid Talos version: {e}")))?;
    let dialect = match dialect(&talos) {
        DialectLookup::Supported(d) => d,
        DialectLookup::TooOld => {
            return Err(error(
                "/cluster/talos",
                format!("Talos {talos} is older than talhorn supports ({})", known()),
            ));
        }
        DialectLookup::Newer(d) => {
            warnings.push(Finding::new(
                "INT003",
                Severity::Warning,
                intent.loc("/cluster/talos"),
                format!(
                    "Talos {talos} is newer than talhorn knows ({}); writing the v1.{} dialect",
                    known(),
                    d.minor
                ),
            ));
            d
        }
    };
    let chart = match &intent.intent.longhorn {
        None => None,
        Some(spec) => {
            let chart = ChartVersion::parse(&spec.version).map_err(|e| {
                error(
                    "/longhorn/version",
                    format!("invalid Longhorn chart version: {e}"),
                )
            })?;
            match chart.support() {
                Support::Supported => {}
                Support::TooOld => {
                    return Err(error("/longhorn/version", format!("Longhorn {chart} is older than talhorn supports (1.8 and newer)")));
                }
                Support::Newer(newest) => warnings.push(Finding::new(
                    "INT003",
                    Severity::Warning,
                    intent.loc("/longhorn/version"),
                    format!("Longhorn {chart} is newer than talhorn knows; checking keys against {newest}"),
                )),
            }
            Some(chart)
        }
    };
    Ok((
        Pinned {
            talos,
            dialect,
            chart,
        },
        warnings,
    ))
}

/// Loads an intent's facts into a cluster model (the `lint` entrance for intent files):
/// version findings go to `load_findings`.
pub fn lower_intent(intent: &LoadedIntent, cluster: &mut Cluster) -> Option<Pinned> {
    match pin_versions(intent) {
        Ok((pinned, warnings)) => {
            cluster.load_findings.extend(warnings);
            lower(intent, &pinned, cluster);
            Some(pinned)
        }
        Err(errors) => {
            cluster.load_findings.extend(errors);
            None
        }
    }
}
