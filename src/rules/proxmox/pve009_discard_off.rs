use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Disk};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE009",
    name: "discard-off",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "A VM disk without `discard=on`: TRIM from Talos and Longhorn never reaches thin storage.",
    docs: r#"## What
A data-holding VM disk (`scsiN`, `virtioN`, `sataN`, `ideN` that is not a CD-ROM) without
`discard=on`. `efidisk0`, `tpmstate0`, CD-ROM and cloud-init drives take no `discard` and are
not checked.

## Why
Without `discard=on`, QEMU drops the guest's TRIM/UNMAP requests. Talos trims its filesystems
and Longhorn's filesystem trim and snapshot purges free blocks, but on thin storage (LVM-thin,
ZFS zvols, qcow2) the space is never returned: the thin pool fills up until every VM on it
stops.

## Example
```
scsi1: local-lvm:vm-201-disk-1,iothread=1,size=200G
```

## Fix
Add `discard=on` to the drive (and `ssd=1` on SCSI/SATA so the guest sees a
non-rotational disk): `scsi1: local-lvm:vm-201-disk-1,discard=on,iothread=1,size=200G,ssd=1`.

## Source
Proxmox `qm.adoc` "Trim/Discard"; Talos docs Proxmox baseline ("Discard"); Longhorn docs
"Trim Filesystem".
"#,
};

/// qemu-server's `drive_is_cloudinit`: the cloud-init drive is a generated CD-ROM image.
fn is_cloudinit(disk: &Disk) -> bool {
    disk.volume
        .as_deref()
        .is_some_and(|v| v.ends_with("-cloudinit") || v.contains("-cloudinit."))
}

pub struct DiscardOff;

impl Rule for DiscardOff {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["disks", "disk.discard"]))
        {
            for disk in vm.block_disks().filter(|d| !is_cloudinit(d)) {
                let (at, what) = match &disk.discard {
                    Some(discard) if discard.value => continue,
                    Some(discard) => (discard.at, "does not set `discard=on`"),
                    None => (disk.at, "has no `discard=on`"),
                };
                out.push(
                    META.finding(
                        at,
                        format!(
                            "{}: `{}` {what}, so TRIM never frees space on thin storage",
                            vm.label(),
                            disk.slot
                        ),
                    )
                    .help("add `discard=on` to the drive"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DiskRole;
    use crate::rules::proxmox::testing::{cluster_of, disk, fact, good_vm, run};

    #[test]
    fn fires_on_each_disk_without_discard() {
        let mut vm = good_vm(201, "w-1", 0);
        for d in &mut vm.disks {
            d.discard = None;
        }
        let at: Vec<_> = vm.disks.iter().map(|d| d.at).collect();
        let findings = run(&DiscardOff, &cluster_of(vec![vm], 1500));
        assert_eq!(findings.iter().map(|f| f.at).collect::<Vec<_>>(), at);
    }

    #[test]
    fn discard_ignore_points_at_the_option() {
        let mut vm = good_vm(201, "w-1", 0);
        vm.disks.truncate(1);
        if let Some(d) = vm.disks.first_mut() {
            d.discard = Some(fact(false, 90));
        }
        let findings = run(&DiscardOff, &cluster_of(vec![vm], 1500));
        assert_eq!(
            findings.iter().map(|f| f.at).collect::<Vec<_>>(),
            [fact((), 90).at]
        );
    }

    #[test]
    fn silent_on_cdroms_and_cloudinit_drives() {
        let mut vm = good_vm(201, "w-1", 0);
        let mut iso = disk("ide2", DiskRole::Cdrom, 60);
        iso.discard = None;
        let mut cloudinit = disk("ide0", DiskRole::Other, 70);
        cloudinit.volume = Some("vm-201-cloudinit".into());
        cloudinit.discard = None;
        vm.disks.extend([iso, cloudinit]);
        assert!(run(&DiscardOff, &cluster_of(vec![vm], 1500)).is_empty());
    }
}
