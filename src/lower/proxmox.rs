//! Intent → VMs and host facts, with the settings the research recommends for Talos.

use super::{DATA_DISK_INDEX, DATA_DISK_SERIAL, Resolved, is_storage_node};
use crate::intent::Platform;
use crate::intent::size::parse_mib;
use crate::intent::{Engine, LoadedIntent, Role};
use crate::model::proxmox::{Bus, CloudInit, EfiDisk};
use crate::model::{Bridge, Disk, DiskRole, Host, Nic, Storage, Vm};
use crate::source::{Fact, Location};

/// What a VM gets when neither the node nor its role's defaults say (Talos and Longhorn guides).
struct RoleDefaults {
    cores: u32,
    memory_mib: u64,
    disk_mib: u64,
}

const CONTROLPLANE: RoleDefaults = RoleDefaults {
    cores: 2,
    memory_mib: 4096,
    disk_mib: 32 * 1024,
};
const WORKER: RoleDefaults = RoleDefaults {
    cores: 4,
    memory_mib: 8192,
    disk_mib: 32 * 1024,
};
const DATA_DISK_MIB: u64 = 100 * 1024;
/// The guest agent runs only when the image has this extension.
pub const GUEST_AGENT_EXTENSION: &str = "siderolabs/qemu-guest-agent";

pub(super) fn host(intent: &LoadedIntent) -> Host {
    let spec = &intent.intent.proxmox;
    Host {
        storages: spec
            .storage
            .iter()
            .map(|(name, s)| Storage {
                name: Fact::new(
                    name.clone(),
                    intent.key_loc(&format!("/proxmox/storage/{name}")),
                ),
                kind: s.kind.clone(),
                path: s.path.clone(),
                pool: None,
                mountpoint: None,
                on_zfs: intent
                    .has(&format!("/proxmox/storage/{name}/onZfs"))
                    .then(|| {
                        Fact::new(
                            s.on_zfs,
                            intent.loc(&format!("/proxmox/storage/{name}/onZfs")),
                        )
                    }),
            })
            .collect(),
        bridges: spec
            .bridges
            .iter()
            .map(|(name, b)| Bridge {
                name: Fact::new(
                    name.clone(),
                    intent.key_loc(&format!("/proxmox/bridges/{name}")),
                ),
                mtu: b
                    .mtu
                    .map(|m| Fact::new(m, intent.loc(&format!("/proxmox/bridges/{name}/mtu")))),
            })
            .collect(),
    }
}

/// The storage a disk goes to when none is named: the first block storage declared, else
/// `local-lvm` (the default of a PVE install on LVM).
fn default_storage(intent: &LoadedIntent) -> String {
    let storages = &intent.intent.proxmox.storage;
    storages
        .iter()
        .find(|(_, s)| matches!(s.kind.as_str(), "lvmthin" | "zfspool" | "lvm" | "rbd"))
        .or_else(|| storages.iter().next())
        .map_or_else(|| "local-lvm".to_string(), |(name, _)| name.clone())
}

/// The VM of node `index`; `macs` are every node's ([`super::node_macs`]).
pub(super) fn vm(intent: &LoadedIntent, index: usize, macs: &[Fact<String>]) -> Vm {
    let node = &intent.intent.nodes[index];
    let r = Resolved::new(intent, index);
    let defaults = match node.role {
        Role::Controlplane => CONTROLPLANE,
        Role::Worker => WORKER,
    };
    let storage_node = is_storage_node(intent, index);
    let v2 = intent
        .intent
        .longhorn
        .as_ref()
        .is_some_and(|l| l.engine == Engine::V2);
    let mut vm = Vm::new(r.node_loc());
    vm.vmid = Some(Fact::new(
        node.vmid,
        intent.loc(&format!("/nodes/{index}/vmid")),
    ));
    vm.name = Some(Fact::new(
        node.name.clone(),
        intent.loc(&format!("/nodes/{index}/name")),
    ));
    vm.role = Some(node.role);
    vm.storage_node = intent.intent.longhorn.is_some().then_some(storage_node);
    let mut tags = vec!["talos".to_string(), node.role.as_str().to_string()];
    tags.extend(
        r.get(|n| n.tags.clone(), |d| d.tags.clone())
            .unwrap_or_default(),
    );
    tags.sort();
    tags.dedup();
    vm.tags = tags;
    vm.cpu = Some(Fact::new(
        r.get(|n| n.cpu.clone(), |d| d.cpu.clone())
            .unwrap_or_else(|| "host".into()),
        r.loc("cpu"),
    ));
    let sockets = r.get(|n| n.sockets, |d| d.sockets).unwrap_or(1);
    vm.sockets = Some(Fact::new(sockets, r.loc("sockets")));
    // A V2 storage node gives one core to the SPDK data engine.
    let default_cores = defaults.cores + u32::from(storage_node && v2);
    vm.cores = Some(Fact::new(
        r.get(|n| n.cores, |d| d.cores).unwrap_or(default_cores),
        r.loc("cores"),
    ));
    let memory = r
        .get(|n| n.memory.clone(), |d| d.memory.clone())
        .and_then(|m| parse_mib(&m))
        .unwrap_or(defaults.memory_mib);
    vm.memory_mib = Some(Fact::new(memory, r.loc("memory")));
    vm.balloon = Some(Fact::new(0, r.node_loc()));
    vm.numa = Some(Fact::new(sockets > 1, r.loc("sockets")));
    let controller = r
        .get(|n| n.controller.clone(), |d| d.controller.clone())
        .unwrap_or_else(|| "virtio-scsi-pci".into());
    let iothread = controller == "virtio-scsi-single";
    vm.scsihw = Some(Fact::new(controller, r.loc("controller")));
    vm.bios = Some(Fact::new("ovmf".into(), r.node_loc()));
    vm.machine = Some(Fact::new("q35".into(), r.node_loc()));
    vm.ostype = Some(Fact::new("l26".into(), r.node_loc()));
    vm.onboot = Some(Fact::new(
        r.get(|n| n.onboot, |d| d.onboot).unwrap_or(true),
        r.loc("onboot"),
    ));
    vm.serial_console = true;
    let agent = intent
        .intent
        .talos
        .extensions
        .iter()
        .any(|e| e == GUEST_AGENT_EXTENSION);
    vm.agent = Some(Fact::new(agent, intent.loc("/talos/extensions")));

    let os_disk = disk(intent, &r, DiskRole::Os, 0, iothread, defaults.disk_mib);
    let os_storage = os_disk.storage.clone();
    let os_slot = os_disk.slot.clone();
    vm.efidisk = Some(EfiDisk {
        storage: os_storage,
        at: r.loc("disk"),
    });
    vm.disks.push(os_disk);
    if storage_node {
        vm.disks.push(disk(
            intent,
            &r,
            DiskRole::Data,
            DATA_DISK_INDEX,
            iothread,
            DATA_DISK_MIB,
        ));
    }
    let mut order = vec![os_slot];
    if let Some(iso) = &intent.intent.proxmox.iso {
        vm.disks.push(cdrom(iso, intent.loc("/proxmox/iso")));
        order.push("ide2".into());
    }
    if intent.intent.cluster.platform == Platform::Nocloud {
        vm.cloud_init = vm
            .os_disk()
            .and_then(|d| d.storage.clone())
            .map(|storage| cloud_init(intent, index, storage));
    }
    vm.nics.push(nic(intent, index, macs));
    order.push("net0".into());
    vm.boot_order = Some(Fact::new(order, r.node_loc()));
    vm
}

fn disk(
    intent: &LoadedIntent,
    r: &Resolved<'_>,
    role: DiskRole,
    index: u32,
    iothread: bool,
    default_mib: u64,
) -> Disk {
    // The data disk is described once under `longhorn.dataDisk`; the OS disk per node/role.
    let (spec, at) = if role == DiskRole::Data {
        let spec = intent
            .intent
            .longhorn
            .as_ref()
            .and_then(|l| l.data_disk.clone())
            .unwrap_or_default();
        let at = if intent.has("/longhorn/dataDisk") {
            intent.loc("/longhorn/dataDisk")
        } else {
            intent.loc("/longhorn")
        };
        (spec, at)
    } else {
        (
            r.get(|n| n.disk.clone(), |d| d.disk.clone())
                .unwrap_or_default(),
            r.loc("disk"),
        )
    };
    let bus = match (role, spec.bus.as_deref()) {
        (DiskRole::Data, _) => super::data_disk_bus(intent),
        (_, Some("virtio")) => Bus::Virtio,
        _ => Bus::Scsi,
    };
    let storage = spec
        .storage
        .clone()
        .unwrap_or_else(|| default_storage(intent));
    let size = spec
        .size
        .as_deref()
        .and_then(parse_mib)
        .unwrap_or(default_mib);
    Disk {
        slot: format!("{}{index}", bus.as_str()),
        bus,
        role,
        storage: Some(storage),
        volume: None,
        format: spec.format.clone().map(|f| Fact::new(f, at)),
        size_mib: Some(Fact::new(size, at)),
        discard: Some(Fact::new(true, at)),
        iothread: (iothread && bus == Bus::Scsi || bus == Bus::Virtio).then(|| Fact::new(true, at)),
        // SSD emulation does not exist on VirtIO Block.
        ssd: (bus != Bus::Virtio).then(|| Fact::new(true, at)),
        serial: (role == DiskRole::Data).then(|| Fact::new(DATA_DISK_SERIAL.to_string(), at)),
        at,
    }
}

/// The slot of the cloud-init drive (`ide2` holds the ISO).
pub const CLOUD_INIT_SLOT: &str = "ide0";

/// The nocloud drive that brings Talos up at its static address before it has a config.
fn cloud_init(intent: &LoadedIntent, index: usize, storage: String) -> CloudInit {
    let spec = &intent.intent;
    let node = &spec.nodes[index];
    let prefix = spec.network.cidr.split_once('/').map_or("24", |(_, p)| p);
    CloudInit {
        slot: CLOUD_INIT_SLOT.into(),
        storage,
        citype: "nocloud",
        ipconfig0: format!("ip={}/{prefix},gw={}", node.ip, spec.network.gateway),
        nameservers: spec.network.nameservers.clone(),
        at: intent.loc(&format!("/nodes/{index}/ip")),
    }
}

fn cdrom(iso: &str, at: Location) -> Disk {
    let (storage, volume) = iso
        .split_once(':')
        .map_or((None, iso), |(s, v)| (Some(s.to_string()), v));
    Disk {
        storage,
        volume: Some(volume.to_string()),
        ..Disk::new("ide2", Bus::Ide, DiskRole::Cdrom, at)
    }
}

fn nic(intent: &LoadedIntent, index: usize, macs: &[Fact<String>]) -> Nic {
    let spec = &intent.intent;
    let bridge_mtu = spec
        .proxmox
        .bridges
        .get(&spec.network.bridge)
        .and_then(|b| b.mtu);
    // PVE 9 gives a virtio NIC the bridge MTU; PVE 8 gives it 1500 unless `mtu=1` asks for the
    // bridge's (qemu-server print_netdevice_full).
    let inherits = crate::knowledge::pve_versions::virtio_inherits_bridge_mtu(spec.proxmox.version);
    let mtu = match (spec.network.mtu, bridge_mtu) {
        (Some(guest), Some(bridge)) if guest != bridge => {
            Some(Fact::new(guest, intent.loc("/network/mtu")))
        }
        (_, Some(bridge)) if bridge > 1500 && !inherits => {
            Some(Fact::new(1, intent.loc("/proxmox/version")))
        }
        _ => None,
    };
    Nic {
        slot: "net0".into(),
        model: Fact::new("virtio".into(), intent.loc(&format!("/nodes/{index}"))),
        mac: macs.get(index).cloned(),
        bridge: Some(Fact::new(
            spec.network.bridge.clone(),
            intent.loc("/network/bridge"),
        )),
        mtu,
        vlan: spec.network.vlan,
        firewall: false,
        at: intent.loc(&format!("/nodes/{index}")),
    }
}
