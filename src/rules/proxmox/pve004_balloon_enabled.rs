use super::vm_facts::DEFAULT_MEMORY_MIB;
use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Vm};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE004",
    name: "balloon-enabled",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "Memory ballooning is on for a Talos VM (`balloon` not 0).",
    docs: r#"## What
A Talos VM whose memory balloon is on:
- `balloon: N` below `memory` (warning): Proxmox may shrink the guest to N MiB under host
  memory pressure;
- no `balloon` line, or `balloon` equal to `memory` (info): the balloon device is present
  (Proxmox adds it unless `balloon: 0`), but the guest is never shrunk below `memory`.

## Why
Kubernetes schedules pods against the memory the kubelet saw at start. When the balloon takes
memory away, pods get OOM-killed and Longhorn instance managers crash. The Talos Proxmox
baseline lists "Ballooning: Disabled".

## Example
```
memory: 8192
balloon: 2048
```

## Fix
`balloon: 0`, and give the VM the memory it needs as fixed `memory`.

## Source
Talos docs (docs.siderolabs.com, v1.11 Proxmox page, baseline table "Ballooning: Disabled");
qemu-server `QemuServer.pm` ("enable balloon by default, unless explicitly disabled");
Proxmox `qm.adoc` "set `balloon: 0`".
"#,
};

pub struct BalloonEnabled;

fn check_vm(vm: &Vm, out: &mut Vec<Finding>) {
    let memory = vm
        .memory_mib
        .as_ref()
        .map_or(DEFAULT_MEMORY_MIB, |m| m.value);
    match &vm.balloon {
        Some(balloon) if balloon.value == 0 => {}
        Some(balloon) if balloon.value < memory => out.push(
            META.finding(
                balloon.at,
                format!(
                    "{} has `balloon: {}` below `memory: {memory}`: Proxmox may take memory away from the running Talos node, and pods get OOM-killed",
                    vm.label(),
                    balloon.value
                ),
            )
            .help("set `balloon: 0` and size `memory` for the node's workload"),
        ),
        Some(balloon) => out.push(
            META.finding_at(
                Severity::Info,
                balloon.at,
                format!(
                    "{} has `balloon: {}`: the balloon device is on although it never shrinks the guest; the Talos Proxmox baseline disables it",
                    vm.label(),
                    balloon.value
                ),
            )
            .help("set `balloon: 0`"),
        ),
        None => out.push(
            META.finding_at(
                Severity::Info,
                vm.origin,
                format!(
                    "{} sets no `balloon`, so Proxmox adds a balloon device; the Talos Proxmox baseline disables ballooning",
                    vm.label()
                ),
            )
            .help("add `balloon: 0`"),
        ),
    }
}

impl Rule for BalloonEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["balloon", "memory"]))
        {
            check_vm(vm, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    fn findings_with(balloon: Option<u64>) -> Vec<Finding> {
        let mut vm = good_vm(201, "w-1", 0);
        vm.balloon = balloon.map(|b| fact(b, 90));
        run(&BalloonEnabled, &cluster_of(vec![vm], 1500))
    }

    #[test]
    fn a_balloon_below_memory_is_a_warning_at_the_balloon_line() {
        let findings = findings_with(Some(2048));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].severity, findings[0].at),
            (Severity::Warning, fact((), 90).at)
        );
    }

    #[test]
    fn a_balloon_device_that_never_shrinks_is_info() {
        let equal = findings_with(Some(8192));
        let absent = findings_with(None);
        assert_eq!(
            equal.iter().map(|f| f.severity).collect::<Vec<_>>(),
            [Severity::Info]
        );
        assert_eq!(
            absent.iter().map(|f| f.severity).collect::<Vec<_>>(),
            [Severity::Info]
        );
        assert_eq!(absent[0].at, good_vm(201, "w-1", 0).origin);
    }

    #[test]
    fn silent_with_balloon_zero() {
        assert!(findings_with(Some(0)).is_empty());
    }
}
