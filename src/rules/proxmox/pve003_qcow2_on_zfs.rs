use super::vm_facts::disk_format;
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE003",
    name: "qcow2-on-zfs",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "A qcow2 disk on a file storage that lives on ZFS: copy-on-write on copy-on-write.",
    docs: r#"## What
A VM disk in qcow2 format on a file-based storage (typically `dir: local`) whose directory is
on a ZFS dataset: its `path` lies under a `zfspool` storage's `mountpoint` (or the pool's
default mountpoint `/<pool>`), or the intent says `onZfs: true`.

qcow2 on a `zfspool` storage itself is a different mistake (Proxmox refuses it): see PVE016.

## Why
qcow2 and ZFS are both copy-on-write. Stacked, every guest write is amplified (qcow2 metadata
and cluster allocation on top of ZFS record rewrites), latency rises and space is wasted. Under
Longhorn, which replicates every write over the network, this is the slowest possible layout.
On a ZFS install, Proxmox's `local` storage (`/var/lib/vz`) is itself on ZFS.

## Example
```
scsi1: local:201/vm-201-disk-1.qcow2,discard=on,size=200G
```
with `storage.cfg` holding `dir: local` at `/var/lib/vz` on a ZFS root.

## Fix
Put the disk on the `zfspool` storage as a raw zvol (`scsi1: local-zfs:vm-201-disk-1,...`), or
use `format=raw` on the directory storage.

## Source
pve-storage `DirPlugin.pm` (qcow2 allowed on any directory); Proxmox installer
(`/var/lib/vz` is the dataset `rpool/var-lib-vz` on ZFS installs); Proxmox `qm.adoc`
"Image Format". No Proxmox document calls this an anti-pattern explicitly: the rule is the
widely shared best practice, see `shared/research/proxmox.md` §5.
"#,
};

pub struct Qcow2OnZfs;

impl Rule for Qcow2OnZfs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["disks", "disk.format"]))
        {
            for disk in vm.block_disks() {
                let Some(format) = disk_format(disk).filter(|f| f.value == "qcow2") else {
                    continue;
                };
                let Some(storage) = disk
                    .storage
                    .as_deref()
                    .and_then(|s| cluster.host.storage(s))
                else {
                    continue;
                };
                // qcow2 on a zfspool itself cannot even be allocated: that is PVE016.
                if storage.kind == "zfspool" {
                    continue;
                }
                let Some(on_zfs) = storage.on_zfs.as_ref().filter(|z| z.value) else {
                    continue;
                };
                out.push(
                    META.finding(
                        format.at,
                        format!(
                            "{} keeps `{}` as qcow2 on storage `{}`, which is on ZFS: copy-on-write on copy-on-write amplifies every write",
                            vm.label(),
                            disk.slot,
                            storage.name.value
                        ),
                    )
                    .related(on_zfs.at, format!("storage `{}` is on ZFS", storage.name.value))
                    .help("use a raw disk, ideally on the zfspool storage (a zvol)"),
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

    fn storage(name: &str, kind: &str, on_zfs: Option<bool>) -> Storage {
        Storage {
            name: fact(name.into(), 500),
            kind: kind.into(),
            path: None,
            pool: None,
            mountpoint: None,
            on_zfs: on_zfs.map(|z| fact(z, 501)),
        }
    }

    fn cluster_with(storage: Storage, volume: &str) -> crate::model::Cluster {
        let mut vm = good_vm(201, "w-1", 0);
        if let Some(disk) = vm.disks.get_mut(1) {
            disk.storage = Some(storage.name.value.clone());
            disk.volume = Some(volume.into());
        }
        let mut cluster = cluster_of(vec![vm], 1500);
        cluster.host.storages.push(storage);
        cluster
    }

    #[test]
    fn fires_on_qcow2_in_a_directory_on_zfs() {
        let cluster = cluster_with(
            storage("local", "dir", Some(true)),
            "201/vm-201-disk-1.qcow2",
        );
        let findings = run(&Qcow2OnZfs, &cluster);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].related[0].at, fact((), 501).at);
    }

    #[test]
    fn silent_without_zfs_evidence_or_on_a_zfspool() {
        for storage in [
            storage("local", "dir", None),
            storage("local", "dir", Some(false)),
            storage("local", "zfspool", Some(true)),
        ] {
            let cluster = cluster_with(storage, "201/vm-201-disk-1.qcow2");
            assert!(run(&Qcow2OnZfs, &cluster).is_empty());
        }
        let raw = cluster_with(storage("local", "dir", Some(true)), "201/vm-201-disk-1.raw");
        assert!(run(&Qcow2OnZfs, &raw).is_empty());
    }
}
