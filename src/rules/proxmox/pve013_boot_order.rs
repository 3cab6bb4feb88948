use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Disk, DiskRole, Vm};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE013",
    name: "boot-order",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "No `boot: order=`, or the order misses the OS disk (info: an attached ISO it misses).",
    docs: r#"## What
- warning: the VM has no `boot: order=…` (no `boot:` line, or only the legacy `boot: cdn`
  form), or the order does not list the OS disk;
- info: a Talos ISO is attached as a CD-ROM but the order does not list it: on a first install,
  with an empty disk, the VM cannot boot the installer.

## Why
Proxmox starts QEMU with strict boot: only devices in `order=` get a boot index, and nothing
else is tried. Without `order=`, the legacy rule makes the hard disk bootable only when
`bootdisk:` names it. A VM whose order misses its disk falls through to network boot or stops
at "No bootable device" after Talos has installed itself.

## Example
```
boot: order=ide2;net0
ide2: local:iso/talos-nocloud-amd64.iso,media=cdrom
scsi0: local-lvm:vm-101-disk-0,discard=on,size=32G
```

## Fix
List the OS disk first and the ISO after it: `boot: order=scsi0;ide2;net0`. An empty disk
fails over to the ISO on the first install; afterwards the installed system boots.

## Source
qemu-server `QemuServer.pm` (`device_bootorder`, `bootorder_from_legacy`, `-boot strict=on`);
Proxmox `qm.adoc` "Boot Order" ("only devices in this list will be marked as bootable").
"#,
};

/// An installer image in a CD-ROM drive (not an empty drive, not the cloud-init drive).
fn is_attached_iso(disk: &Disk) -> bool {
    disk.role == DiskRole::Cdrom
        && disk.volume.as_deref().is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.ends_with(".iso") || v.ends_with(".img")
        })
}

fn check_vm(vm: &Vm, out: &mut Vec<Finding>) {
    let Some(order) = &vm.boot_order else {
        out.push(
            META.finding(
                vm.origin,
                format!(
                    "{} has no `boot: order=`: with strict boot its disk may not be bootable",
                    vm.label()
                ),
            )
            .help(boot_help(vm)),
        );
        return;
    };
    let listed = |slot: &str| order.value.iter().any(|entry| entry.trim() == slot);
    if let Some(os) = vm.os_disk().filter(|d| !listed(&d.slot)) {
        out.push(
            META.finding(
                order.at,
                format!(
                    "{}: `boot: order={}` does not list the OS disk `{}`: the installed system will not boot",
                    vm.label(),
                    order.value.join(";"),
                    os.slot
                ),
            )
            .related(os.at, "the OS disk")
            .help(boot_help(vm)),
        );
    }
    for iso in vm
        .disks
        .iter()
        .filter(|d| is_attached_iso(d) && !listed(&d.slot))
    {
        out.push(
            META.finding_at(
                Severity::Info,
                order.at,
                format!(
                    "{}: the ISO on `{}` is not in `boot: order={}`: with an empty disk (first install) the VM cannot boot the installer",
                    vm.label(),
                    iso.slot,
                    order.value.join(";")
                ),
            )
            .related(iso.at, "the ISO is attached here")
            .help(boot_help(vm)),
        );
    }
}

/// `boot: order=<os disk>;<iso>;<first nic>` for this VM.
fn boot_help(vm: &Vm) -> String {
    let os = vm.os_disk().map(|d| d.slot.as_str());
    let iso = vm
        .disks
        .iter()
        .find(|d| is_attached_iso(d))
        .map(|d| d.slot.as_str());
    let nic = vm.nics.first().map(|n| n.slot.as_str());
    let order: Vec<&str> = [os, iso, nic].into_iter().flatten().collect();
    if order.is_empty() {
        "add `boot: order=` listing the OS disk first".to_string()
    } else {
        format!("use `boot: order={}`", order.join(";"))
    }
}

pub struct BootOrder;

impl Rule for BootOrder {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["boot_order", "disks", "more_disks", "nics"]))
        {
            check_vm(vm, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, disk, fact, good_vm, run};

    fn vm_with(order: Option<&[&str]>, iso: bool) -> Vm {
        let mut vm = good_vm(101, "cp-1", 0);
        vm.boot_order = order.map(|o| fact(o.iter().map(|s| (*s).to_string()).collect(), 90));
        if iso {
            let mut cdrom = disk("ide2", DiskRole::Cdrom, 60);
            cdrom.volume = Some("iso/talos-nocloud-amd64.iso".into());
            vm.disks.push(cdrom);
        }
        vm
    }

    fn severities(vm: Vm) -> Vec<Severity> {
        run(&BootOrder, &cluster_of(vec![vm], 1500))
            .iter()
            .map(|f| f.severity)
            .collect()
    }

    #[test]
    fn missing_order_is_a_warning_at_the_vm_with_a_concrete_fix() {
        let findings = run(&BootOrder, &cluster_of(vec![vm_with(None, true)], 1500));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].help.as_deref(),
            Some("use `boot: order=scsi0;ide2;net0`")
        );
    }

    #[test]
    fn an_order_without_the_os_disk_is_a_warning() {
        assert_eq!(
            severities(vm_with(Some(&["ide2", "net0"]), true)),
            [Severity::Warning]
        );
    }

    #[test]
    fn an_attached_iso_outside_the_order_is_info() {
        assert_eq!(
            severities(vm_with(Some(&["scsi0", "net0"]), true)),
            [Severity::Info]
        );
    }

    #[test]
    fn silent_when_disk_and_iso_are_listed() {
        assert!(severities(vm_with(Some(&["scsi0", "ide2", "net0"]), true)).is_empty());
        assert!(severities(vm_with(Some(&["scsi0"]), false)).is_empty());
    }
}
