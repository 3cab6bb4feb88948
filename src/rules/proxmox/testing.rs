//! Hand-built models for the rules' unit tests: a VM that every Proxmox and network rule accepts,
//! which each test then breaks in one way.

use crate::finding::Finding;
use crate::model::proxmox::Bus;
use crate::model::{Bridge, Cluster, Disk, DiskRole, Nic, Role, Vm};
use crate::rules::Rule;
use crate::source::{Fact, FileId, Location, Span};

/// A distinct location per call site: tests compare locations, not line numbers.
pub fn loc(n: usize) -> Location {
    Location::new(FileId(0), Span::new(n, n + 1))
}

pub fn fact<T>(value: T, n: usize) -> Fact<T> {
    Fact::new(value, loc(n))
}

pub fn disk(slot: &str, role: DiskRole, n: usize) -> Disk {
    Disk {
        slot: slot.into(),
        bus: Bus::of_slot(slot).unwrap_or(Bus::Scsi),
        role,
        storage: Some("local-lvm".into()),
        volume: Some(format!("vm-{n}-disk-0")),
        format: None,
        size_mib: None,
        discard: Some(fact(true, n + 1)),
        iothread: None,
        ssd: Some(fact(true, n + 2)),
        serial: None,
        at: loc(n),
    }
}

/// A Longhorn storage worker as the Talos Proxmox guide recommends it. Locations are
/// `base + k`, so VMs built with different bases never share one.
pub fn good_vm(vmid: u32, name: &str, base: usize) -> Vm {
    let mut vm = Vm::new(loc(base));
    vm.vmid = Some(fact(vmid, base + 1));
    vm.name = Some(fact(name.to_string(), base + 2));
    vm.role = Some(Role::Worker);
    vm.storage_node = Some(true);
    vm.cpu = Some(fact("host".into(), base + 3));
    vm.sockets = Some(fact(1, base + 4));
    vm.cores = Some(fact(4, base + 5));
    vm.memory_mib = Some(fact(8192, base + 6));
    vm.balloon = Some(fact(0, base + 7));
    vm.scsihw = Some(fact("virtio-scsi-pci".into(), base + 8));
    vm.bios = Some(fact("seabios".into(), base + 9));
    vm.boot_order = Some(fact(vec!["scsi0".into(), "net0".into()], base + 10));
    vm.agent = Some(fact(false, base + 11));
    vm.disks = vec![
        disk("scsi0", DiskRole::Os, base + 20),
        disk("scsi1", DiskRole::Data, base + 30),
    ];
    vm.nics = vec![Nic {
        slot: "net0".into(),
        model: fact("virtio".into(), base + 40),
        mac: Some(fact(
            format!("BC:24:11:00:00:{:02X}", vmid % 256),
            base + 41,
        )),
        bridge: Some(fact("vmbr0".into(), base + 42)),
        mtu: Some(fact(1, base + 43)),
        vlan: None,
        firewall: false,
        at: loc(base + 44),
    }];
    vm
}

/// A cluster of VMs on a host with bridge `vmbr0` at `bridge_mtu`, PVE 9.
pub fn cluster_of(vms: Vec<Vm>, bridge_mtu: u32) -> Cluster {
    let mut cluster = Cluster {
        vms,
        ..Cluster::default()
    };
    cluster.versions.proxmox = Some(fact(9, 9000));
    cluster.host.bridges.push(Bridge {
        name: fact("vmbr0".into(), 9001),
        mtu: Some(fact(bridge_mtu, 9002)),
    });
    cluster
}

pub fn run(rule: &dyn Rule, cluster: &Cluster) -> Vec<Finding> {
    let mut out = Vec::new();
    rule.check(cluster, &mut out);
    out
}

#[test]
fn the_recommended_vm_is_silent_for_every_proxmox_rule() {
    let cluster = cluster_of(vec![good_vm(201, "w-1", 0), good_vm(202, "w-2", 100)], 1500);
    for rule in super::RULES {
        let findings = run(*rule, &cluster);
        assert!(findings.is_empty(), "{}: {findings:?}", rule.meta().code);
    }
}
