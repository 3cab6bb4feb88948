use crate::finding::{Finding, Severity};
use crate::model::proxmox::Bus;
use crate::model::{Cluster, Vm};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE008",
    name: "iothread",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "`iothread=1` on a SCSI disk without `virtio-scsi-single` (ignored); info: single without iothread.",
    docs: r#"## What
- warning: a `scsiN` disk with `iothread=1` while `scsihw` is not `virtio-scsi-single`;
  Proxmox ignores the option ("iothread is only valid with virtio disk or virtio-scsi-single
  controller, ignoring").
- info: `scsihw: virtio-scsi-single` with a `scsiN` disk lacking `iothread=1`: the
  one-controller-per-disk layout exists to give each disk its own I/O thread.

`virtioN` (VirtIO Block) disks take `iothread` with any controller and are not checked.

## Why
An ignored `iothread=1` gives the impression of a tuned disk while all disk I/O still runs in
QEMU's main loop, which is what Longhorn's replicas then compete for.

## Example
```
scsihw: virtio-scsi-pci
scsi1: local-lvm:vm-201-disk-1,discard=on,iothread=1,size=200G
```

## Fix
Either `scsihw: virtio-scsi-single` (keep `iothread=1`), or drop `iothread=1` when you keep
`virtio-scsi-pci` (what the Talos docs recommend).

## Source
qemu-server `QemuServer.pm` (the warning above); Proxmox `qm.adoc` "IO Thread".
"#,
};

fn check_vm(vm: &Vm, out: &mut Vec<Finding>) {
    let single = vm
        .scsihw
        .as_ref()
        .is_some_and(|hw| hw.value == "virtio-scsi-single");
    let controller = vm.scsihw.as_ref().map_or("lsi", |hw| hw.value.as_str());
    for disk in vm.block_disks().filter(|d| d.bus == Bus::Scsi) {
        match (&disk.iothread, single) {
            (Some(iothread), false) if iothread.value => {
                let mut finding = META.finding(
                    iothread.at,
                    format!(
                        "{}: `iothread=1` on `{}` is ignored with `scsihw: {controller}`; Proxmox honours it only with `virtio-scsi-single`",
                        vm.label(),
                        disk.slot
                    ),
                );
                if let Some(hw) = &vm.scsihw {
                    finding = finding.related(hw.at, "the SCSI controller is set here");
                }
                out.push(finding.help("use `scsihw: virtio-scsi-single`, or remove `iothread=1`"));
            }
            (iothread, true) if !iothread.as_ref().is_some_and(|i| i.value) => out.push(
                META.finding_at(
                    Severity::Info,
                    disk.at,
                    format!(
                        "{}: `{}` has no `iothread=1` although `scsihw: virtio-scsi-single` exists to give each disk its own I/O thread",
                        vm.label(),
                        disk.slot
                    ),
                )
                .help("add `iothread=1` to the disk"),
            ),
            _ => {}
        }
    }
}

pub struct Iothread;

impl Rule for Iothread {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["disks", "scsihw", "disk.iothread"]))
        {
            check_vm(vm, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    fn findings_with(scsihw: &str, iothread: Option<bool>) -> Vec<Finding> {
        let mut vm = good_vm(201, "w-1", 0);
        vm.scsihw = Some(fact(scsihw.to_string(), 90));
        vm.disks.truncate(1);
        if let Some(disk) = vm.disks.first_mut() {
            disk.iothread = iothread.map(|i| fact(i, 91));
        }
        run(&Iothread, &cluster_of(vec![vm], 1500))
    }

    #[test]
    fn ignored_iothread_is_a_warning_at_the_option() {
        let findings = findings_with("virtio-scsi-pci", Some(true));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].severity, findings[0].at),
            (Severity::Warning, fact((), 91).at)
        );
    }

    #[test]
    fn single_without_iothread_is_info() {
        let findings = findings_with("virtio-scsi-single", None);
        assert_eq!(
            findings.iter().map(|f| f.severity).collect::<Vec<_>>(),
            [Severity::Info]
        );
    }

    #[test]
    fn silent_when_the_pair_matches() {
        assert!(findings_with("virtio-scsi-single", Some(true)).is_empty());
        assert!(findings_with("virtio-scsi-pci", None).is_empty());
        assert!(findings_with("virtio-scsi-pci", Some(false)).is_empty());
    }
}
