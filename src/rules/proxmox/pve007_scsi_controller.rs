use crate::finding::{Finding, Severity};
use crate::model::proxmox::Bus;
use crate::model::{Cluster, Vm};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE007",
    name: "scsi-controller",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "SCSI disks on a controller that is not VirtIO SCSI (e.g. the `lsi` default).",
    docs: r#"## What
A VM with `scsiN` disks whose `scsihw` is not `virtio-scsi-pci` or `virtio-scsi-single`,
including a missing `scsihw` line (the default is `lsi`, an emulated LSI 53C895A).

## Why
Emulated LSI, MegaRAID and PVSCSI controllers are slow, cap at 7 disks per controller (LSI) and
lack the paravirtual queueing that Longhorn's replica I/O needs. Every Talos-on-Proxmox guide
uses VirtIO SCSI.

## Example
```
scsi0: local-lvm:vm-201-disk-0,discard=on,size=32G
```
(no `scsihw:` line: the controller is `lsi`)

## Fix
`scsihw: virtio-scsi-pci` (what the Talos docs recommend) or `virtio-scsi-single` (the Proxmox
default for new Linux VMs; pair it with `iothread=1`).

## Source
Proxmox `qm.conf` option table (`scsihw` default `lsi`); qemu-server `DriveDevice.pm`
(`scsihw_infos`); Talos docs Proxmox baseline ("VirtIO SCSI").
"#,
};

const VIRTIO_SCSI: &[&str] = &["virtio-scsi-pci", "virtio-scsi-single"];

fn has_scsi_disk(vm: &Vm) -> bool {
    vm.block_disks().any(|d| d.bus == Bus::Scsi)
}

pub struct ScsiController;

impl Rule for ScsiController {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| has_scsi_disk(vm) && !vm.any_unknown(&["scsihw", "disks"]))
        {
            let finding = match &vm.scsihw {
                Some(hw) if VIRTIO_SCSI.contains(&hw.value.as_str()) => continue,
                Some(hw) => META.finding(
                    hw.at,
                    format!("{} uses the emulated SCSI controller `scsihw: {}`, which is slow for Talos and Longhorn", vm.label(), hw.value),
                ),
                None => META.finding(
                    vm.origin,
                    format!("{} has SCSI disks but no `scsihw`, so Proxmox emulates an LSI controller, which is slow for Talos and Longhorn", vm.label()),
                ),
            };
            out.push(finding.help("set `scsihw: virtio-scsi-pci` (or `virtio-scsi-single` with `iothread=1` on each disk)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    fn findings_with(scsihw: Option<&str>) -> Vec<Finding> {
        let mut vm = good_vm(201, "w-1", 0);
        vm.scsihw = scsihw.map(|s| fact(s.to_string(), 90));
        run(&ScsiController, &cluster_of(vec![vm], 1500))
    }

    #[test]
    fn fires_on_lsi_and_on_the_missing_default() {
        assert_eq!(
            findings_with(Some("lsi")).first().map(|f| f.at),
            Some(fact((), 90).at)
        );
        assert_eq!(
            findings_with(None).first().map(|f| f.at),
            Some(good_vm(201, "w-1", 0).origin)
        );
    }

    #[test]
    fn silent_on_virtio_scsi_or_without_scsi_disks() {
        assert!(findings_with(Some("virtio-scsi-single")).is_empty());
        let mut vm = good_vm(201, "w-1", 0);
        vm.scsihw = None;
        for disk in &mut vm.disks {
            disk.bus = Bus::Virtio;
        }
        assert!(run(&ScsiController, &cluster_of(vec![vm], 1500)).is_empty());
    }
}
