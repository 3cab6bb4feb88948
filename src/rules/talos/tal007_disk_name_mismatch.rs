use super::push_unique;
use crate::finding::{Finding, Severity};
use crate::model::proxmox::Bus;
use crate::model::{Cluster, DiskRole, TalosConfig, Vm};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;

pub static META: RuleMeta = RuleMeta {
    code: "TAL007",
    name: "disk-name-mismatch",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "`install.disk` or a data-disk device names a device the VM's disk bus will not produce.",
    docs: r#"## What
A device path in the Talos config of a node — `machine.install.disk`, a `machine.disks`
device, or `disk.dev_path == '…'` in a `UserVolumeConfig` selector — that the node's VM cannot
have: VirtIO block disks (`virtio0`, `virtio1`) appear as `/dev/vda`, `/dev/vdb`; SCSI, SATA and
IDE disks as `/dev/sda`, `/dev/sdb`; Proxmox has no NVMe disk bus, so `/dev/nvme0n1` never
exists. The rule counts the VM's disks per bus (CD-ROMs excluded).

## Why
Talos installs to the disk it is told and fails the install when it does not exist (`gen config`
defaults to `/dev/sda`). A data disk selector that matches nothing leaves the Longhorn user
volume unprovisioned, and Longhorn writes to the system disk or not at all.

## Example
```
virtio0: local-lvm:vm-201-disk-0,discard=on,size=32G
```
```yaml
machine:
  install:
    disk: /dev/sda
```

## Fix
Name the device the bus produces (`/dev/vda`), or better select the disk by a stable property
Talos sees: a VirtIO Block disk (`virtioN`) with `serial=` is matched by `disk.serial == '…'`;
behind VirtIO SCSI Talos shows no serial, so select its
`/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_<serial>` link in `disk.symlinks` (TAL017).

## Source
Talos Proxmox guide ("the default install disk is /dev/sda (may be /dev/vda)"); Linux
`virtio_blk` (`vd*`) and `sd` naming; talhorn research `talos.md` §3.1, §6.
"#,
};

pub struct DiskNameMismatch;

/// How many disks of a device family the VM exposes.
fn disks_named(vm: &Vm, virtio: bool) -> usize {
    vm.disks
        .iter()
        .filter(|d| d.role != DiskRole::Cdrom)
        .filter(|d| (d.bus == Bus::Virtio) == virtio)
        .count()
}

/// `a` → 0, `z` → 25, `aa` → 26: the kernel's disk letter scheme.
fn letter_index(letters: &str) -> Option<usize> {
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    letters
        .bytes()
        .try_fold(0usize, |n, b| {
            n.checked_mul(26)?.checked_add(usize::from(b - b'a') + 1)
        })
        .map(|n| n - 1)
}

/// Why the VM cannot have `device`; `None` when it can or the name is not one the rule knows.
fn impossible(vm: &Vm, device: &str) -> Option<String> {
    let name = device.trim().strip_prefix("/dev/")?;
    if name.starts_with("nvme") {
        return Some("Proxmox has no NVMe disk bus, so the VM has no /dev/nvme* device".into());
    }
    // Counting needs every disk (a clone's source may add some).
    if vm.is_unknown("more_disks") {
        return None;
    }
    let (virtio, letters) = if let Some(l) = name.strip_prefix("vd") {
        (true, l)
    } else if let Some(l) = name.strip_prefix("sd") {
        (false, l)
    } else {
        return None;
    };
    let letters = letters.trim_end_matches(|c: char| c.is_ascii_digit());
    let index = letter_index(letters)?;
    let count = disks_named(vm, virtio);
    if index < count {
        return None;
    }
    let family = if virtio {
        "VirtIO block (virtio*)"
    } else {
        "SCSI/SATA/IDE"
    };
    let count = if count == 0 {
        "no".to_string()
    } else {
        count.to_string()
    };
    let other = disks_named(vm, !virtio);
    let hint = if other > 0 {
        format!(
            "; its {other} {} disk(s) appear as /dev/{}a…",
            if virtio {
                "SCSI/SATA/IDE"
            } else {
                "VirtIO block"
            },
            if virtio { "sd" } else { "vd" }
        )
    } else {
        String::new()
    };
    Some(format!("it has {count} {family} disk(s){hint}"))
}

/// `/dev/…` paths quoted in a CEL selector (`disk.dev_path == '/dev/sdb'`).
fn quoted_devices(selector: &str) -> Vec<String> {
    selector
        .split(['\'', '"'])
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("/dev/"))
        .map(String::from)
        .collect()
}

/// The device paths a set of configs names, with where each is written.
fn devices(configs: &[&TalosConfig]) -> Vec<(String, Location, &'static str)> {
    let mut found = Vec::new();
    if let Some(disk) = configs.iter().rev().find_map(|c| c.install_disk.as_ref()) {
        found.push((disk.value.clone(), disk.at, "install disk"));
    }
    for config in configs {
        for disk in &config.machine_disks {
            found.push((disk.value.device.clone(), disk.at, "data disk"));
        }
        for volume in &config.user_volumes {
            for device in volume
                .value
                .disk_selector
                .as_deref()
                .map(quoted_devices)
                .unwrap_or_default()
            {
                found.push((device, volume.at, "user volume disk"));
            }
        }
    }
    found
}

impl Rule for DiskNameMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for (vm, configs) in super::vm_configs(cluster) {
            if vm.disks.is_empty() || vm.is_unknown("disks") {
                continue;
            }
            for (device, at, what) in devices(&configs) {
                if let Some(reason) = impossible(vm, &device) {
                    push_unique(
                        out,
                        META.finding(at, format!("{what} `{device}` does not exist on {}: {reason}", vm.label()))
                            .related(vm.origin, "the VM config")
                            .help("select the disk by a stable property instead of a device name: `serial=` on a VirtIO Block disk and `disk.serial` (see TAL017 for other buses)"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Disk;
    use crate::rules::talos::testing::at;

    fn vm(slots: &[(&str, DiskRole)]) -> Vm {
        let mut vm = Vm::new(at(0));
        for (slot, role) in slots {
            vm.disks.push(Disk::new(
                *slot,
                Bus::of_slot(slot).unwrap_or(Bus::Scsi),
                *role,
                at(1),
            ));
        }
        vm
    }

    #[test]
    fn virtio_disks_are_vd_and_scsi_disks_are_sd() {
        let v = vm(&[("virtio0", DiskRole::Os), ("ide2", DiskRole::Cdrom)]);
        assert!(impossible(&v, "/dev/vda").is_none());
        assert!(
            impossible(&v, "/dev/sda").is_some(),
            "the CD-ROM is not /dev/sda"
        );
        assert!(impossible(&v, "/dev/vdb").is_some());
        let s = vm(&[("scsi0", DiskRole::Os), ("scsi1", DiskRole::Data)]);
        assert!(impossible(&s, "/dev/sdb").is_none());
        assert!(impossible(&s, "/dev/sdb1").is_none());
        assert!(impossible(&s, "/dev/sdc").is_some());
        assert!(impossible(&s, "/dev/nvme0n1").is_some());
        assert!(impossible(&s, "/dev/disk/by-id/x").is_none());
    }

    #[test]
    fn a_vm_that_may_have_more_disks_has_any_sd_or_vd_device() {
        // A bpg clone that resizes scsi0 keeps its source's other disks.
        let mut s = vm(&[("scsi0", DiskRole::Os)]);
        s.unknown.push("more_disks");
        assert!(impossible(&s, "/dev/sdb").is_none());
        assert!(impossible(&s, "/dev/vda").is_none());
        assert!(impossible(&s, "/dev/nvme0n1").is_some());
    }

    #[test]
    fn letters_count_like_the_kernel() {
        assert_eq!(letter_index("a"), Some(0));
        assert_eq!(letter_index("z"), Some(25));
        assert_eq!(letter_index("aa"), Some(26));
        assert_eq!(letter_index(""), None);
    }

    #[test]
    fn finds_devices_quoted_in_cel() {
        assert_eq!(
            quoted_devices("disk.dev_path == '/dev/sdb' && !system_disk"),
            vec!["/dev/sdb"]
        );
        assert!(quoted_devices("disk.serial == \"longhorn\"").is_empty());
    }
}
