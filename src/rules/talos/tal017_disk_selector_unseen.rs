use super::push_unique;
use crate::finding::{Finding, Severity};
use crate::knowledge::talos::{bus_identity, serial_selector};
use crate::model::{Cluster, DiskRole, TalosConfig, Vm};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL017",
    name: "disk-selector-unseen",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "A `UserVolumeConfig` selects a disk by `disk.serial`, but the VM's disk is on a bus where Talos shows no serial.",
    docs: r#"## What
A `UserVolumeConfig` whose `provisioning.diskSelector.match` compares `disk.serial` with the
`serial=` of a Proxmox disk that sits on SCSI (behind VirtIO SCSI, `virtio-scsi-pci` or
`virtio-scsi-single`), SATA or IDE. The rule joins the VM's disk (by its serial) with the Talos
selector; it is silent when either side is unknown.

What Talos sees of a Proxmox disk, per bus:

| Proxmox bus | `disk.transport` | `disk.serial` | `/dev/disk/by-id` link |
|---|---|---|---|
| `virtioN` (VirtIO Block) | `virtio` | the `serial=` value | `virtio-<serial>` |
| `scsiN` (VirtIO SCSI) | `virtio` | empty | `scsi-0QEMU_QEMU_HARDDISK_<serial>` |
| `sataN` | `sata` | empty | `ata-QEMU_HARDDISK_<serial>` |
| `ideN` | `ata` | `QEMU_HARDDISK_<serial>` | `ata-QEMU_HARDDISK_<serial>` |

## Why
The selector matches no disk, so Talos never provisions the volume. The kubelet mount of
`/var/mnt/<name>` is then created on the EPHEMERAL partition and Longhorn fills the system disk
with replicas. Talos reads the serial from `/sys/block/<dev>/serial` or
`/sys/block/<dev>/device/serial`: a virtio-blk disk has the first; SCSI and ATA disks have
neither, and Talos asks udev's `scsi_id`/`ata_id` only for the transports `scsi` and `ata`,
while a disk behind VirtIO SCSI reports `virtio`.

## Example
```
scsi1: local-lvm:vm-201-disk-1,discard=on,serial=longhorn-data,size=200G,ssd=1
```
```yaml
apiVersion: v1alpha1
kind: UserVolumeConfig
name: longhorn
provisioning:
  diskSelector:
    match: disk.serial == 'longhorn-data'
```

## Fix
Put the data disk on VirtIO Block (`virtio1: …,serial=longhorn-data`), where `disk.serial`
works, or keep the bus and select the serial-bearing link:
`'/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_longhorn-data' in disk.symlinks`.

## Source
Talos `internal/app/machined/pkg/controllers/block/disks.go` (`serialFromUdevdHelpers`);
go-blockdevice v2 `block/device_linux.go` (`GetProperties`, `getTransport`);
siderolabs/talos#11348 and #12073 (serial empty behind virtio-scsi, by-id link present);
systemd `60-persistent-storage.rules`; talhorn `docs/disk-identity.md`.
"#,
};

pub struct DiskSelectorUnseen;

/// The values a CEL selector compares `disk.serial` with (`disk.serial == 'x'`).
fn selected_serials(selector: &str) -> Vec<String> {
    selector
        .match_indices("disk.serial")
        .filter_map(|(i, m)| {
            let rest = selector[i + m.len()..].trim_start().strip_prefix("==")?;
            let rest = rest.trim_start();
            let quote = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
            let value = &rest[1..];
            Some(value[..value.find(quote)?].to_string())
        })
        .collect()
}

fn check_vm(vm: &Vm, configs: &[&TalosConfig], out: &mut Vec<Finding>) {
    for volume in configs.iter().flat_map(|c| &c.user_volumes) {
        let Some(selector) = volume.value.disk_selector.as_deref() else {
            continue;
        };
        for serial in selected_serials(selector) {
            let disk = vm.disks.iter().find(|d| {
                d.role != DiskRole::Cdrom && d.serial.as_ref().is_some_and(|s| s.value == serial)
            });
            let Some(disk) = disk else { continue };
            let bus = disk.bus.as_str();
            let Some(row) = bus_identity(bus).filter(|row| !row.serial_seen) else {
                continue;
            };
            let fix = serial_selector(bus, &serial).unwrap_or_default();
            push_unique(
                out,
                META.finding(
                    volume.at,
                    format!(
                        "`disk.serial == '{serial}'` matches no disk on {}: its disk {} is on the {bus} bus, where Talos shows no serial (transport `{}`)",
                        vm.label(),
                        disk.slot,
                        row.transport
                    ),
                )
                .related(disk.at, "the disk with this serial")
                .help(format!(
                    "put the disk on VirtIO Block (`virtio…`), or select `{fix}`"
                )),
            );
        }
    }
}

impl Rule for DiskSelectorUnseen {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for (vm, configs) in super::vm_configs(cluster) {
            check_vm(vm, &configs, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_compared_serials() {
        assert_eq!(
            selected_serials("disk.serial == 'longhorn-data' && !system_disk"),
            vec!["longhorn-data"]
        );
        assert_eq!(selected_serials("disk.serial==\"a\""), vec!["a"]);
        assert!(selected_serials("disk.size > 10u * GiB").is_empty());
        assert!(selected_serials("disk.serial != 'x'").is_empty());
    }

    #[test]
    fn the_fix_names_a_selector_talos_sees() {
        assert_eq!(
            serial_selector("scsi", "d").as_deref(),
            Some("'/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_d' in disk.symlinks")
        );
        assert_eq!(
            serial_selector("virtio", "d").as_deref(),
            Some("disk.serial == 'd'")
        );
    }
}
