use super::vm_facts::{disk_format, storage_holds_format};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE016",
    name: "format-unsupported",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "A disk format the storage type cannot hold (qcow2 on zfspool, lvmthin, rbd, …).",
    docs: r#"## What
A VM disk whose format (`format=`, or the volume name's extension) is not one its storage's
type can hold. Block storages hold only raw: `zfspool` (zvols), `lvmthin`, `lvm` (PVE 8), `rbd`,
ZFS over iSCSI, iSCSI; `btrfs` holds raw files. File storages (`dir`, `nfs`, `cifs`) hold raw,
qcow2 and vmdk. The storage type comes from `storage.cfg` or the intent; unknown storages are
not checked, and neither is `lvm` on PVE 9 (qcow2 is allowed there with
`snapshot-as-volume-chain`).

## Why
Proxmox refuses it: allocation dies with `unsupported format 'qcow2'`, and (qemu-server since
December 2024, PVE 8 and 9) a `format=` that differs from the storage's format stops the VM
from starting
(`'format=qcow2' option different from storage format 'raw'`).

## Example
```
scsi0: local-zfs:vm-101-disk-0,format=qcow2,discard=on,size=32G
```

## Fix
Drop `format=` (the storage decides) or use `format=raw`. If you want qcow2 snapshots, use a
directory storage that is not on ZFS — but prefer raw for Talos and Longhorn anyway.

## Source
pve-storage plugins (`plugindata` formats, `alloc_image` "unsupported format"); qemu-server
`Drive.pm` `get_path_and_format`; Proxmox `qm.adoc` "Image Format" ("Storages which present
block devices (LVM, ZFS, Ceph) will require the raw disk image format").
"#,
};

pub struct FormatUnsupported;

impl Rule for FormatUnsupported {
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
            for disk in vm.block_disks() {
                let Some(format) = disk_format(disk) else {
                    continue;
                };
                let Some(storage) = disk
                    .storage
                    .as_deref()
                    .and_then(|s| cluster.host.storage(s))
                else {
                    continue;
                };
                if storage_holds_format(storage, &format.value, pve) != Some(false) {
                    continue;
                }
                out.push(
                    META.finding(
                        format.at,
                        format!(
                            "{}: `{}` is {} on storage `{}` of type `{}`, which cannot hold it: Proxmox refuses to allocate or start it",
                            vm.label(),
                            disk.slot,
                            format.value,
                            storage.name.value,
                            storage.kind
                        ),
                    )
                    .related(storage.name.at, format!("storage `{}` is declared here", storage.name.value))
                    .help("use `format=raw` (or drop `format=`): block storages hold raw volumes only"),
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

    fn findings_with(kind: &str, format: &str) -> Vec<Finding> {
        let mut vm = good_vm(101, "cp-1", 0);
        if let Some(disk) = vm.disks.first_mut() {
            disk.storage = Some("store".into());
            disk.format = Some(fact(format.to_string(), 90));
        }
        let mut cluster = cluster_of(vec![vm], 1500);
        cluster.host.storages.push(Storage {
            name: fact("store".into(), 500),
            kind: kind.into(),
            path: None,
            pool: None,
            mountpoint: None,
            on_zfs: None,
        });
        run(&FormatUnsupported, &cluster)
    }

    #[test]
    fn fires_on_qcow2_on_block_storage() {
        for kind in ["zfspool", "lvmthin", "rbd"] {
            let findings = findings_with(kind, "qcow2");
            assert_eq!(
                findings.iter().map(|f| f.at).collect::<Vec<_>>(),
                [fact((), 90).at],
                "{kind}"
            );
        }
    }

    #[test]
    fn silent_on_raw_on_file_storage_and_on_unknown_storage() {
        assert!(findings_with("zfspool", "raw").is_empty());
        assert!(findings_with("dir", "qcow2").is_empty());
        assert!(findings_with("made-up", "qcow2").is_empty());
    }
}
