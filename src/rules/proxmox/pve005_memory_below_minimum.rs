use super::vm_facts::DEFAULT_MEMORY_MIB;
use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Role, Vm};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE005",
    name: "memory-below-minimum",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "VM memory below Talos's minimum (error) or below the recommended size for its role (warning, info).",
    docs: r#"## What
The VM's `memory` (512 MiB when the line is missing) against its role:

| role | error below | warning below | info below |
|---|---|---|---|
| control plane | 2 GiB (Talos minimum) | 4 GiB (Talos recommendation; Longhorn minimum when it stores data) | |
| worker | 1 GiB (Talos minimum) | 4 GiB on a Longhorn storage node (Longhorn minimum) | 8 GiB on a Longhorn storage worker |
| unknown role | 1 GiB (every Talos node) | 4 GiB on a Longhorn storage node | |

The role comes from the intent, the VM's tags (`controlplane`, `worker`) or the Talos node the
VM runs; storage nodes are the workers (plus control planes when Longhorn schedules on them).

## Why
Below Talos's minimum the node does not come up (etcd and the API server alone need most of
2 GiB). Longhorn's instance managers, engines and replicas need memory on every storage node;
below 4 GiB they are OOM-killed under load, and volumes degrade.

## Example
```
tags: talos;controlplane
memory: 1024
```

## Fix
Raise `memory`: 4096 or more for a control plane, 8192 or more for a Longhorn storage worker.

## Source
Talos system requirements (v1.10/v1.11: control plane 2 GiB minimum, 4 GiB recommended; worker
1 GiB minimum); Longhorn 1.10 best practices ("4 GiB per node" minimum recommended hardware);
Talos docs Proxmox baseline ("8GB+ for workers"); qemu-server `memory` default 512.
"#,
};

const GIB: u64 = 1024;

/// A memory floor: below `mib`, report at `severity` because of `reason`.
struct Floor {
    mib: u64,
    severity: Severity,
    reason: &'static str,
}

/// The floors for a VM, most severe first.
fn floors(role: Option<Role>, storage: bool) -> Vec<Floor> {
    let floor = |gib: u64, severity, reason| Floor {
        mib: gib * GIB,
        severity,
        reason,
    };
    let mut floors = Vec::new();
    match role {
        Some(Role::Controlplane) => {
            floors.push(floor(
                2,
                Severity::Error,
                "Talos's minimum for a control plane",
            ));
            floors.push(floor(
                4,
                Severity::Warning,
                "what Talos recommends for a control plane",
            ));
        }
        Some(Role::Worker) => {
            floors.push(floor(1, Severity::Error, "Talos's minimum for a worker"));
            if storage {
                floors.push(floor(
                    4,
                    Severity::Warning,
                    "Longhorn's minimum per storage node",
                ));
                floors.push(floor(
                    8,
                    Severity::Info,
                    "what is recommended for a Longhorn storage worker",
                ));
            }
        }
        None => {
            floors.push(floor(1, Severity::Error, "Talos's minimum for any node"));
            if storage {
                floors.push(floor(
                    4,
                    Severity::Warning,
                    "Longhorn's minimum per storage node",
                ));
            }
        }
    }
    floors
}

fn describe(mib: u64) -> String {
    if mib.is_multiple_of(GIB) {
        format!("{} GiB", mib / GIB)
    } else {
        format!("{mib} MiB")
    }
}

fn check_vm(cluster: &Cluster, vm: &Vm, out: &mut Vec<Finding>) {
    let storage = cluster.is_storage_vm(vm) == Some(true);
    let all = floors(cluster.role_of(vm), storage);
    let memory = vm
        .memory_mib
        .as_ref()
        .map_or(DEFAULT_MEMORY_MIB, |m| m.value);
    let Some(floor) = all.iter().find(|f| memory < f.mib) else {
        return;
    };
    let target = all.last().map_or(floor.mib, |f| f.mib);
    let (at, stated) = match &vm.memory_mib {
        Some(m) => (
            m.at,
            format!("has `memory: {}` ({})", m.value, describe(m.value)),
        ),
        None => (
            vm.origin,
            format!(
                "sets no `memory`, so Proxmox gives it {}",
                describe(DEFAULT_MEMORY_MIB)
            ),
        ),
    };
    out.push(
        META.finding_at(
            floor.severity,
            at,
            format!(
                "{} {stated}: below {} ({})",
                vm.label(),
                floor.reason,
                describe(floor.mib)
            ),
        )
        .help(format!("set `memory: {target}` or more")),
    );
}

pub struct MemoryBelowMinimum;

impl Rule for MemoryBelowMinimum {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster.vms.iter().filter(|vm| !vm.any_unknown(&["memory"])) {
            check_vm(cluster, vm, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    fn severity(role: Option<Role>, storage: bool, memory: Option<u64>) -> Option<Severity> {
        let mut vm = good_vm(101, "n-1", 0);
        vm.role = role;
        vm.storage_node = Some(storage);
        vm.memory_mib = memory.map(|m| fact(m, 90));
        let findings = run(&MemoryBelowMinimum, &cluster_of(vec![vm], 1500));
        assert!(findings.len() <= 1);
        findings.first().map(|f| f.severity)
    }

    #[test]
    fn control_plane_tiers() {
        let cp = Some(Role::Controlplane);
        assert_eq!(severity(cp, false, Some(1536)), Some(Severity::Error));
        assert_eq!(severity(cp, false, Some(3072)), Some(Severity::Warning));
        assert_eq!(severity(cp, false, Some(4096)), None);
        assert_eq!(
            severity(cp, false, None),
            Some(Severity::Error),
            "absent memory is 512 MiB"
        );
    }

    #[test]
    fn worker_tiers_depend_on_longhorn_storage() {
        let w = Some(Role::Worker);
        assert_eq!(severity(w, true, Some(768)), Some(Severity::Error));
        assert_eq!(severity(w, true, Some(2048)), Some(Severity::Warning));
        assert_eq!(severity(w, true, Some(6144)), Some(Severity::Info));
        assert_eq!(severity(w, true, Some(8192)), None);
        assert_eq!(severity(w, false, Some(2048)), None);
    }

    #[test]
    fn unknown_role_only_gets_the_floor_every_node_needs() {
        assert_eq!(severity(None, false, Some(768)), Some(Severity::Error));
        assert_eq!(severity(None, false, Some(1536)), None);
    }

    #[test]
    fn points_at_the_memory_line() {
        let mut vm = good_vm(101, "cp-1", 0);
        vm.role = Some(Role::Controlplane);
        vm.memory_mib = Some(fact(1024, 90));
        let findings = run(&MemoryBelowMinimum, &cluster_of(vec![vm], 1500));
        assert_eq!(findings.first().map(|f| f.at), Some(fact((), 90).at));
    }
}
