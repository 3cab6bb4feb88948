//! Proxmox defaults and derived facts that several rules share: what a VM gets when its config
//! leaves a key out, and which format a disk really has.

use crate::model::{Disk, Storage, Vm};
use crate::source::Fact;

/// `memory` when the config sets none (qemu-server `$confdesc`: default 512 MiB).
pub const DEFAULT_MEMORY_MIB: u64 = 512;

/// The ID of the Talos extension that runs the QEMU guest agent.
pub const GUEST_AGENT_EXTENSION: &str = "siderolabs/qemu-guest-agent";

/// The VM's vCPU count: `sockets × cores`, each 1 when unset.
pub fn vcpus(vm: &Vm) -> u32 {
    let sockets = vm.sockets.as_ref().map_or(1, |s| s.value);
    let cores = vm.cores.as_ref().map_or(1, |c| c.value);
    sockets.saturating_mul(cores)
}

/// The disk's image format: `format=` when written, otherwise the volume name's extension
/// (`100/vm-100-disk-0.qcow2`), located at the drive line. `None` when neither says.
pub fn disk_format(disk: &Disk) -> Option<Fact<String>> {
    if let Some(format) = &disk.format {
        return Some(format.clone());
    }
    let volume = disk.volume.as_deref()?;
    let (_, extension) = volume.rsplit_once('.')?;
    ["raw", "qcow2", "vmdk"]
        .contains(&extension)
        .then(|| Fact::new(extension.to_string(), disk.at))
}

/// Whether a storage type can hold VM disks in `format`; `None` when that is not known
/// (an unknown storage type, or `lvm` on PVE 9, where `snapshot-as-volume-chain` allows qcow2).
///
/// pve-storage `plugindata`/`get_formats`: file storages take raw, qcow2 and vmdk; block
/// storages (zfspool, lvmthin, lvm, rbd, ZFS over iSCSI, iSCSI) and btrfs take only raw.
pub fn storage_holds_format(storage: &Storage, format: &str, pve: Option<u8>) -> Option<bool> {
    let formats: &[&str] = match storage.kind.as_str() {
        "dir" | "nfs" | "cifs" => &["raw", "qcow2", "vmdk"],
        "lvm" if pve != Some(8) => return None,
        "zfspool" | "btrfs" | "lvmthin" | "lvm" | "rbd" | "zfs" | "iscsi" | "iscsidirect" => {
            &["raw"]
        }
        "cephfs" | "pbs" | "esxi" => &[],
        _ => return None,
    };
    Some(formats.contains(&format))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DiskRole;
    use crate::model::proxmox::Bus;
    use crate::source::{FileId, Location, Span};

    fn disk(volume: &str, format: Option<&str>) -> Disk {
        let at = Location::new(FileId(0), Span::new(0, 5));
        Disk {
            slot: "scsi0".into(),
            bus: Bus::Scsi,
            role: DiskRole::Os,
            storage: Some("local".into()),
            volume: Some(volume.into()),
            format: format.map(|f| Fact::new(f.to_string(), at)),
            size_mib: None,
            discard: None,
            iothread: None,
            ssd: None,
            serial: None,
            at,
        }
    }

    fn storage(kind: &str) -> Storage {
        let at = Location::new(FileId(0), Span::new(0, 1));
        Storage {
            name: Fact::new("s".into(), at),
            kind: kind.into(),
            path: None,
            pool: None,
            mountpoint: None,
            on_zfs: None,
        }
    }

    #[test]
    fn format_comes_from_the_option_then_the_volume_name() {
        let f = |d: &Disk| disk_format(d).map(|f| f.value);
        assert_eq!(
            f(&disk("100/vm-100-disk-0.qcow2", None)).as_deref(),
            Some("qcow2")
        );
        assert_eq!(
            f(&disk("vm-100-disk-0", Some("raw"))).as_deref(),
            Some("raw")
        );
        assert_eq!(f(&disk("vm-100-disk-0", None)), None);
        assert_eq!(f(&disk("iso/talos.v1.11.iso", None)), None);
    }

    #[test]
    fn block_storages_hold_only_raw() {
        assert_eq!(
            storage_holds_format(&storage("zfspool"), "qcow2", Some(9)),
            Some(false)
        );
        assert_eq!(
            storage_holds_format(&storage("lvmthin"), "raw", None),
            Some(true)
        );
        assert_eq!(
            storage_holds_format(&storage("dir"), "qcow2", None),
            Some(true)
        );
        assert_eq!(
            storage_holds_format(&storage("lvm"), "qcow2", Some(8)),
            Some(false)
        );
        assert_eq!(
            storage_holds_format(&storage("lvm"), "qcow2", Some(9)),
            None
        );
        assert_eq!(
            storage_holds_format(&storage("glusterfs-ish"), "qcow2", None),
            None
        );
    }
}
