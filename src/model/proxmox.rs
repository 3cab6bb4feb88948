//! Proxmox facts: VMs (from `qm.conf` or the intent) and the host's storage and bridges.

use super::Role;
use crate::source::{Fact, FileId, Location};

/// Which controller a disk hangs off, which decides its device name in the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bus {
    Ide,
    Sata,
    Scsi,
    Virtio,
}

impl Bus {
    pub fn of_slot(slot: &str) -> Option<Self> {
        let prefix = slot.trim_end_matches(|c: char| c.is_ascii_digit());
        match prefix {
            "ide" => Some(Self::Ide),
            "sata" => Some(Self::Sata),
            "scsi" => Some(Self::Scsi),
            "virtio" => Some(Self::Virtio),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ide => "ide",
            Self::Sata => "sata",
            Self::Scsi => "scsi",
            Self::Virtio => "virtio",
        }
    }
}

/// What a disk is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskRole {
    /// The Talos system disk (first disk in boot order, or the first disk).
    Os,
    /// The Longhorn data disk.
    Data,
    Cdrom,
    Other,
}

#[derive(Debug, Clone)]
pub struct Disk {
    /// `scsi0`, `virtio1`, `ide2`.
    pub slot: String,
    pub bus: Bus,
    pub role: DiskRole,
    /// Storage ID (`local-lvm`), when the volume names one.
    pub storage: Option<String>,
    /// Volume name or ISO path after `storage:`.
    pub volume: Option<String>,
    pub format: Option<Fact<String>>,
    pub size_mib: Option<Fact<u64>>,
    pub discard: Option<Fact<bool>>,
    pub iothread: Option<Fact<bool>>,
    pub ssd: Option<Fact<bool>>,
    pub serial: Option<Fact<String>>,
    /// The whole drive line (or the intent entry it came from).
    pub at: Location,
}

impl Disk {
    /// A disk whose volume and options are not known (yet).
    pub fn new(slot: impl Into<String>, bus: Bus, role: DiskRole, at: Location) -> Self {
        Self {
            slot: slot.into(),
            bus,
            role,
            storage: None,
            volume: None,
            format: None,
            size_mib: None,
            discard: None,
            iothread: None,
            ssd: None,
            serial: None,
            at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Nic {
    /// `net0`.
    pub slot: String,
    pub model: Fact<String>,
    pub mac: Option<Fact<String>>,
    pub bridge: Option<Fact<String>>,
    pub mtu: Option<Fact<u32>>,
    pub vlan: Option<u16>,
    pub firewall: bool,
    pub at: Location,
}

/// A Proxmox cloud-init drive and what it tells the guest: `ideN: <storage>:vm-<id>-cloudinit`,
/// `citype`, `ipconfig0`, `nameserver`. Talos's nocloud platform reads it (network-config v1,
/// which Proxmox writes, or v2) and comes up in maintenance mode at that address.
#[derive(Debug, Clone)]
pub struct CloudInit {
    /// `ide0`.
    pub slot: String,
    pub storage: String,
    pub citype: &'static str,
    /// `ip=10.20.0.11/24,gw=10.20.0.1`.
    pub ipconfig0: String,
    pub nameservers: Vec<String>,
    pub at: Location,
}

#[derive(Debug, Clone)]
pub struct EfiDisk {
    pub storage: Option<String>,
    pub at: Location,
}

/// One VM. Fields are `None` when the config does not set them (Proxmox then applies its
/// default, which rules know).
#[derive(Debug, Clone)]
pub struct Vm {
    /// The `qm.conf` file, when the VM came from one.
    pub file: Option<FileId>,
    /// The start of the config (or the intent's node entry): where "missing key" findings point.
    pub origin: Location,
    pub vmid: Option<Fact<u32>>,
    pub name: Option<Fact<String>>,
    pub role: Option<Role>,
    /// Whether the VM carries Longhorn data, when stated (intent `storage`, or the data disk).
    pub storage_node: Option<bool>,
    pub tags: Vec<String>,
    pub cpu: Option<Fact<String>>,
    pub args: Option<Fact<String>>,
    pub sockets: Option<Fact<u32>>,
    pub cores: Option<Fact<u32>>,
    pub memory_mib: Option<Fact<u64>>,
    pub balloon: Option<Fact<u64>>,
    pub hotplug: Option<Fact<Vec<String>>>,
    pub numa: Option<Fact<bool>>,
    pub scsihw: Option<Fact<String>>,
    pub bios: Option<Fact<String>>,
    pub machine: Option<Fact<String>>,
    pub ostype: Option<Fact<String>>,
    /// `boot: order=a;b;c`; `None` when there is no `boot:` line or it has no `order=`.
    pub boot_order: Option<Fact<Vec<String>>>,
    pub efidisk: Option<EfiDisk>,
    pub agent: Option<Fact<bool>>,
    pub onboot: Option<Fact<bool>>,
    pub serial_console: bool,
    /// Only VMs talhorn generates carry it; a hand-written config's drive is one of `disks`.
    pub cloud_init: Option<CloudInit>,
    pub disks: Vec<Disk>,
    pub nics: Vec<Nic>,
    /// Facts written in the source but not knowable from it (a Terraform attribute set from
    /// `each.value`, a `dynamic` block, a setting a bpg clone takes from its source VM): `cpu`,
    /// `memory`, `balloon`, `disks`, `disk.discard`, `nic.mtu`, ...; `more_disks` when the VM
    /// may have disks besides `disks` (a clone keeps its source's). Rules that need one of them
    /// stay silent on the VM.
    pub unknown: Vec<&'static str>,
}

impl Vm {
    pub fn new(origin: Location) -> Self {
        Self {
            file: None,
            origin,
            vmid: None,
            name: None,
            role: None,
            storage_node: None,
            tags: Vec::new(),
            cpu: None,
            args: None,
            sockets: None,
            cores: None,
            memory_mib: None,
            balloon: None,
            hotplug: None,
            numa: None,
            scsihw: None,
            bios: None,
            machine: None,
            ostype: None,
            boot_order: None,
            efidisk: None,
            agent: None,
            onboot: None,
            serial_console: false,
            cloud_init: None,
            disks: Vec::new(),
            nics: Vec::new(),
            unknown: Vec::new(),
        }
    }

    /// Whether a fact is written but unknown (see [`Vm::unknown`]).
    pub fn is_unknown(&self, field: &str) -> bool {
        self.unknown.contains(&field)
    }

    /// Whether any of the facts is unknown.
    pub fn any_unknown(&self, fields: &[&str]) -> bool {
        fields.iter().any(|f| self.is_unknown(f))
    }

    /// A name for messages: `VM 101 (cp-1)`.
    pub fn label(&self) -> String {
        match (&self.vmid, &self.name) {
            (Some(id), Some(name)) => format!("VM {} ({})", id.value, name.value),
            (Some(id), None) => format!("VM {}", id.value),
            (None, Some(name)) => format!("VM {}", name.value),
            (None, None) => "the VM".to_string(),
        }
    }

    pub fn os_disk(&self) -> Option<&Disk> {
        self.disks.iter().find(|d| d.role == DiskRole::Os)
    }

    pub fn data_disks(&self) -> impl Iterator<Item = &Disk> {
        self.disks.iter().filter(|d| d.role == DiskRole::Data)
    }

    /// The Linux device name a disk gets in the guest (`scsi1` → `/dev/sdb`, `virtio0` →
    /// `/dev/vda`), counting the VM's disks of the same kind in slot order. Linux naming, not
    /// a Proxmox guarantee: select disks by serial where the config allows it.
    pub fn guest_device(&self, disk: &Disk) -> Option<String> {
        let (prefix, virtio) = match disk.bus {
            Bus::Virtio => ("vd", true),
            Bus::Scsi | Bus::Sata => ("sd", false),
            Bus::Ide => return None,
        };
        let position = self
            .disks
            .iter()
            .filter(|d| {
                d.role != DiskRole::Cdrom && d.bus != Bus::Ide && (d.bus == Bus::Virtio) == virtio
            })
            .position(|d| d.slot == disk.slot)?;
        let letter = char::from(b'a' + u8::try_from(position).ok().filter(|p| *p < 26)?);
        Some(format!("/dev/{prefix}{letter}"))
    }

    /// Disks that hold data (not CD-ROMs).
    pub fn block_disks(&self) -> impl Iterator<Item = &Disk> {
        self.disks.iter().filter(|d| d.role != DiskRole::Cdrom)
    }
}

#[derive(Debug, Clone)]
pub struct Storage {
    pub name: Fact<String>,
    /// `dir`, `zfspool`, `lvmthin`, ...
    pub kind: String,
    pub path: Option<String>,
    /// For zfspool: the pool (`rpool/data`) and its mountpoint.
    pub pool: Option<String>,
    pub mountpoint: Option<String>,
    /// Stated (intent `onZfs`) or derived (a dir under a zfspool mountpoint).
    pub on_zfs: Option<Fact<bool>>,
}

#[derive(Debug, Clone)]
pub struct Bridge {
    pub name: Fact<String>,
    pub mtu: Option<Fact<u32>>,
}

#[derive(Debug, Clone, Default)]
pub struct Host {
    pub storages: Vec<Storage>,
    pub bridges: Vec<Bridge>,
}

impl Host {
    pub fn storage(&self, name: &str) -> Option<&Storage> {
        self.storages.iter().find(|s| s.name.value == name)
    }

    pub fn bridge(&self, name: &str) -> Option<&Bridge> {
        self.bridges.iter().find(|b| b.name.value == name)
    }
}
