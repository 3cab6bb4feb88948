use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE014",
    name: "ovmf-without-efidisk",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "`bios: ovmf` without an `efidisk0`: UEFI variables (boot entries) are lost on every start.",
    docs: r#"## What
A VM with `bios: ovmf` (UEFI) and no `efidisk0`.

## Why
OVMF keeps its variables, including the boot entries Talos's installer writes, on the EFI disk.
Without one, Proxmox starts OVMF from a fresh, temporary variable store each time: boot entries
and the boot order are forgotten, and the VM may fall back to the ISO or the network after an
upgrade. Proxmox: "there needs to be an EFI Disk" for OVMF to persist them.

## Example
```
bios: ovmf
machine: q35
scsi0: local-lvm:vm-101-disk-1,discard=on,size=32G
```

## Fix
Add a 4m EFI disk: `qm set 101 -efidisk0 local-lvm:1,efitype=4m` (a hand-written config
cannot allocate it); it then appears as `efidisk0: local-lvm:vm-101-disk-0,efitype=4m,...`.
Leave `pre-enrolled-keys` off unless you boot a Secure Boot Talos image.

## Source
Proxmox `qm.adoc` "BIOS and UEFI" (EFI disk, `efitype=4m`); Talos docs Proxmox baseline
("EFI disk: 4MB").
"#,
};

pub struct OvmfWithoutEfidisk;

impl Rule for OvmfWithoutEfidisk {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| vm.efidisk.is_none() && !vm.any_unknown(&["bios", "efidisk"]))
        {
            let Some(bios) = vm.bios.as_ref().filter(|b| b.value == "ovmf") else {
                continue;
            };
            out.push(
                META.finding(
                    bios.at,
                    format!("{} boots with `bios: ovmf` but has no `efidisk0`: its UEFI boot entries are lost on every start", vm.label()),
                )
                .help("add an EFI disk: `qm set <vmid> -efidisk0 <storage>:1,efitype=4m`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::proxmox::EfiDisk;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, loc, run};

    fn findings_with(bios: &str, efidisk: bool) -> Vec<Finding> {
        let mut vm = good_vm(101, "cp-1", 0);
        vm.bios = Some(fact(bios.to_string(), 90));
        vm.efidisk = efidisk.then(|| EfiDisk {
            storage: Some("local-lvm".into()),
            at: loc(91),
        });
        run(&OvmfWithoutEfidisk, &cluster_of(vec![vm], 1500))
    }

    #[test]
    fn fires_at_the_bios_line() {
        assert_eq!(
            findings_with("ovmf", false)
                .iter()
                .map(|f| f.at)
                .collect::<Vec<_>>(),
            [fact((), 90).at]
        );
    }

    #[test]
    fn silent_with_an_efidisk_or_seabios() {
        assert!(findings_with("ovmf", true).is_empty());
        assert!(findings_with("seabios", false).is_empty());
    }
}
