use super::vm_facts::{disk_format, storage_holds_format};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE010",
    name: "qcow2-data-disk",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "The Longhorn data disk is a qcow2 image: copy-on-write under Longhorn's own snapshots.",
    docs: r#"## What
The disk that holds Longhorn's data (the VM's data disk) is in qcow2 format, written as
`format=qcow2` or as a `.qcow2` volume name. When the storage cannot hold qcow2 at all, PVE016
reports it instead.

## Why
Longhorn already does copy-on-write: every volume is a chain of sparse snapshot files, and
every write goes to all replicas over the network. A qcow2 image below it adds a second layer
of allocation and metadata updates to every write, fragments the file, and makes Proxmox
snapshots of the VM pointless (Longhorn data is not crash-consistent across nodes anyway).

## Example
```
scsi1: local:201/vm-201-disk-1.qcow2,discard=on,size=200G
```

## Fix
Use a raw disk for the data disk: on LVM-thin or a ZFS pool (`scsi1: local-lvm:vm-201-disk-1,...`),
or `format=raw` on a directory storage.

## Source
Longhorn architecture (replica snapshots are sparse files); Longhorn best practices
("dedicated disk"); Proxmox `qm.adoc` "Image Format".
"#,
};

pub struct Qcow2DataDisk;

impl Rule for Qcow2DataDisk {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let pve = cluster.versions.proxmox.as_ref().map(|v| v.value);
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["disks", "disk.format"]))
        {
            for disk in vm.data_disks() {
                let Some(format) = disk_format(disk).filter(|f| f.value == "qcow2") else {
                    continue;
                };
                let storage = disk
                    .storage
                    .as_deref()
                    .and_then(|s| cluster.host.storage(s));
                if storage.and_then(|s| storage_holds_format(s, "qcow2", pve)) == Some(false) {
                    continue;
                }
                out.push(
                    META.finding(
                        format.at,
                        format!(
                            "{}: the Longhorn data disk `{}` is qcow2, a copy-on-write layer under Longhorn's own snapshots",
                            vm.label(),
                            disk.slot
                        ),
                    )
                    .help("use a raw data disk (LVM-thin, a ZFS zvol, or `format=raw`)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Storage;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    fn findings_with(slot_index: usize, volume: &str, storage_kind: &str) -> Vec<Finding> {
        let mut vm = good_vm(201, "w-1", 0);
        if let Some(disk) = vm.disks.get_mut(slot_index) {
            disk.volume = Some(volume.into());
            disk.storage = Some("store".into());
        }
        let mut cluster = cluster_of(vec![vm], 1500);
        cluster.host.storages.push(Storage {
            name: fact("store".into(), 500),
            kind: storage_kind.into(),
            path: None,
            pool: None,
            mountpoint: None,
            on_zfs: None,
        });
        run(&Qcow2DataDisk, &cluster)
    }

    #[test]
    fn fires_on_a_qcow2_data_disk() {
        assert_eq!(findings_with(1, "201/vm-201-disk-1.qcow2", "dir").len(), 1);
    }

    #[test]
    fn silent_on_raw_on_the_os_disk_and_where_pve016_applies() {
        assert!(findings_with(1, "201/vm-201-disk-1.raw", "dir").is_empty());
        assert!(findings_with(0, "201/vm-201-disk-0.qcow2", "dir").is_empty());
        assert!(findings_with(1, "vm-201-disk-1.qcow2", "lvmthin").is_empty());
    }
}
