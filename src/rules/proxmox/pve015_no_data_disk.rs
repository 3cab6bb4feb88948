use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE015",
    name: "no-data-disk",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "A Longhorn storage node whose VM has only its OS disk.",
    docs: r#"## What
A VM that is a Longhorn storage node (a worker, or a control plane when Longhorn schedules on
them, or as the intent says) with no data disk: its only block disk is the Talos system disk.

## Why
Longhorn then stores replicas on Talos's EPHEMERAL partition, next to container images and
logs. A full volume fills the node's system disk, the kubelet evicts pods under disk
pressure, and a Talos reset or reinstall wipes the replicas. Talos and Longhorn both recommend
a separate disk for storage.

## Example
```
tags: talos;worker
scsi0: local-lvm:vm-201-disk-0,discard=on,iothread=1,size=32G,ssd=1
```

## Fix
Add a data disk with a stable serial, e.g.
`qm set 201 -scsi1 local-lvm:200,discard=on,iothread=1,ssd=1,serial=longhorn-201`, and mount
it for Longhorn with a Talos `UserVolumeConfig` that selects that serial.

## Source
Talos system requirements ("separate disks for storage"); Longhorn best practices ("dedicated
disk rather than the root disk").
"#,
};

pub struct NoDataDisk;

impl Rule for NoDataDisk {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["disks", "more_disks"]))
        {
            if cluster.is_storage_vm(vm) != Some(true)
                || vm.data_disks().next().is_some()
                || vm.block_disks().count() > 1
            {
                continue;
            }
            out.push(
                META.finding(
                    vm.origin,
                    format!(
                        "{} is a Longhorn storage node but has no data disk: replicas would land on the Talos system disk",
                        vm.label()
                    ),
                )
                .help("add a dedicated data disk with a `serial=` and select it in a Talos UserVolumeConfig"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, good_vm, run};

    #[test]
    fn fires_on_a_storage_node_with_only_its_os_disk() {
        let mut vm = good_vm(201, "w-1", 0);
        vm.disks.truncate(1);
        let origin = vm.origin;
        let findings = run(&NoDataDisk, &cluster_of(vec![vm], 1500));
        assert_eq!(findings.iter().map(|f| f.at).collect::<Vec<_>>(), [origin]);
    }

    #[test]
    fn silent_with_a_data_disk_or_off_storage() {
        assert!(run(&NoDataDisk, &cluster_of(vec![good_vm(201, "w-1", 0)], 1500)).is_empty());
        let mut vm = good_vm(101, "cp-1", 0);
        vm.disks.truncate(1);
        vm.storage_node = Some(false);
        assert!(run(&NoDataDisk, &cluster_of(vec![vm], 1500)).is_empty());
    }
}
