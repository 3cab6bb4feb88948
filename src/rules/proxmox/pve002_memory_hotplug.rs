use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE002",
    name: "memory-hotplug",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "`hotplug` includes `memory`: Talos does not support memory hot-plugging.",
    docs: r#"## What
A Talos VM whose `hotplug` list contains `memory`.

## Why
The Talos Proxmox guide says "Talos doesn't support memory hot plugging": with memory hotplug
on, Proxmox gives the guest only a small static base and plugs the rest in as DIMMs that Talos
never onlines, so the node runs with a fraction of its memory (or fails to boot). Proxmox also
requires `numa: 1` for it, which hides the mistake behind a second setting.

## Example
```
hotplug: disk,network,usb,memory
memory: 8192
numa: 1
```

## Fix
Remove `memory` from `hotplug` (`hotplug: disk,network,usb`, or drop the line: that is the
default). Change memory with a VM restart instead.

## Source
Talos Proxmox guide (v1.11) "Talos doesn't support memory hot plugging"; qemu-server
`parse_hotplug_features` and `Memory.pm` ("NUMA needs to be enabled for memory hotplug").
"#,
};

pub struct MemoryHotplug;

impl Rule for MemoryHotplug {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in &cluster.vms {
            let Some(hotplug) = &vm.hotplug else { continue };
            if hotplug
                .value
                .iter()
                .any(|feature| feature.trim() == "memory")
            {
                out.push(
                    META.finding(
                        hotplug.at,
                        format!(
                            "{} has `hotplug: {}`: Talos does not support memory hot-plugging and will not see the hot-plugged memory",
                            vm.label(),
                            hotplug.value.join(",")
                        ),
                    )
                    .help("remove `memory` from `hotplug` (e.g. `hotplug: disk,network,usb`)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    #[test]
    fn fires_on_memory_in_the_hotplug_list() {
        let mut vm = good_vm(201, "w-1", 0);
        vm.hotplug = Some(fact(vec!["disk".into(), "memory".into()], 90));
        let findings = run(&MemoryHotplug, &cluster_of(vec![vm.clone()], 1500));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].at, fact((), 90).at);
    }

    #[test]
    fn silent_without_memory_hotplug() {
        let mut vm = good_vm(201, "w-1", 0);
        vm.hotplug = Some(fact(
            vec!["disk".into(), "network".into(), "cpu".into()],
            90,
        ));
        assert!(run(&MemoryHotplug, &cluster_of(vec![vm], 1500)).is_empty());
    }
}
