use super::vm_facts::vcpus;
use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Role, Vm};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE006",
    name: "cores-below-minimum",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "vCPUs below Talos's minimum (error) or below Longhorn's recommendation on a storage node (warning).",
    docs: r#"## What
The VM's vCPU count (`sockets × cores`, each 1 when unset) against its role:
- error below Talos's minimum: 2 for a control plane, 1 for a worker;
- warning below 4 on a Longhorn storage node, or below 5 when Longhorn runs the V2 data engine
  (its instance manager keeps one core busy polling).

## Why
A control plane with one vCPU cannot run etcd, the API server and the controllers with headroom
and fails health checks under load. Longhorn's minimum recommended hardware is 4 vCPUs per
node; the V2 engine's SPDK target polls at 100% of one core, so it needs one more.

## Example
```
tags: talos;controlplane
sockets: 1
cores: 1
```

## Fix
Raise `cores`: 2 or more for a control plane, 4 or more for a Longhorn storage node (5 with
the V2 engine).

## Source
Talos system requirements (control plane 2 cores minimum, worker 1); Longhorn 1.10 best
practices ("4 vCPUs per node"); Longhorn V2 data engine prerequisites and 1.12 best practices
("+1 CPU core per node"); qemu-server `sockets`/`cores` default 1.
"#,
};

/// A vCPU floor: below `count`, report at `severity` because of `reason`.
struct Floor {
    count: u32,
    severity: Severity,
    reason: &'static str,
}

fn floors(role: Option<Role>, storage: bool, v2: bool) -> Vec<Floor> {
    let mut floors = Vec::new();
    if role == Some(Role::Controlplane) {
        floors.push(Floor {
            count: 2,
            severity: Severity::Error,
            reason: "Talos's minimum of 2 for a control plane",
        });
    }
    if storage {
        floors.push(if v2 {
            Floor {
                count: 5,
                severity: Severity::Warning,
                reason: "the 4 Longhorn recommends per storage node plus the core its V2 engine keeps busy",
            }
        } else {
            Floor { count: 4, severity: Severity::Warning, reason: "the 4 Longhorn recommends per storage node" }
        });
    }
    floors
}

fn check_vm(cluster: &Cluster, vm: &Vm, out: &mut Vec<Finding>) {
    let storage = cluster.is_storage_vm(vm) == Some(true);
    let v2 = cluster.longhorn.as_ref().is_some_and(|l| l.v2());
    let all = floors(cluster.role_of(vm), storage, v2);
    let count = vcpus(vm);
    let Some(floor) = all.iter().find(|f| count < f.count) else {
        return;
    };
    let target = all.iter().map(|f| f.count).max().unwrap_or(floor.count);
    let at = vm
        .cores
        .as_ref()
        .or(vm.sockets.as_ref())
        .map_or(vm.origin, |f| f.at);
    out.push(
        META.finding_at(
            floor.severity,
            at,
            format!(
                "{} has {count} vCPU(s) (sockets × cores): below {}",
                vm.label(),
                floor.reason
            ),
        )
        .help(format!("set `cores: {target}` or more")),
    );
}

pub struct CoresBelowMinimum;

impl Rule for CoresBelowMinimum {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["cores", "sockets"]))
        {
            check_vm(cluster, vm, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Longhorn;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, loc, run};

    fn severity(
        role: Role,
        storage: bool,
        v2: bool,
        sockets: Option<u32>,
        cores: Option<u32>,
    ) -> Option<Severity> {
        let mut vm = good_vm(101, "n-1", 0);
        vm.role = Some(role);
        vm.storage_node = Some(storage);
        vm.sockets = sockets.map(|s| fact(s, 90));
        vm.cores = cores.map(|c| fact(c, 91));
        let mut cluster = cluster_of(vec![vm], 1500);
        let mut longhorn = Longhorn::new(loc(800));
        longhorn.engine_v2 = Some(fact(v2, 801));
        cluster.longhorn = Some(longhorn);
        let findings = run(&CoresBelowMinimum, &cluster);
        findings.first().map(|f| f.severity)
    }

    #[test]
    fn control_plane_needs_two_vcpus() {
        assert_eq!(
            severity(Role::Controlplane, false, false, None, Some(1)),
            Some(Severity::Error)
        );
        assert_eq!(
            severity(Role::Controlplane, false, false, None, None),
            Some(Severity::Error)
        );
        assert_eq!(
            severity(Role::Controlplane, false, false, Some(2), Some(1)),
            None,
            "2 sockets × 1 core"
        );
    }

    #[test]
    fn storage_nodes_need_four_and_one_more_for_v2() {
        assert_eq!(
            severity(Role::Worker, true, false, None, Some(2)),
            Some(Severity::Warning)
        );
        assert_eq!(severity(Role::Worker, true, false, None, Some(4)), None);
        assert_eq!(
            severity(Role::Worker, true, true, None, Some(4)),
            Some(Severity::Warning)
        );
        assert_eq!(severity(Role::Worker, true, true, None, Some(5)), None);
        assert_eq!(severity(Role::Worker, false, false, None, Some(1)), None);
    }
}
