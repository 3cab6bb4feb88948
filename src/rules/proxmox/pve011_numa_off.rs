use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE011",
    name: "numa-off",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "More than one socket without `numa: 1`.",
    docs: r#"## What
A VM with `sockets` greater than 1 and `numa` unset or 0.

## Why
With several virtual sockets but no virtual NUMA topology, the guest kernel assumes uniform
memory while the host spreads the VM across NUMA nodes: memory-hungry workloads (etcd, Longhorn
engines) pay remote-memory latency the scheduler cannot avoid. The Proxmox NUMA page: "Enabling
NUMA can boost VM performance".

## Example
```
sockets: 2
cores: 4
```

## Fix
`numa: 1` — or use one socket with more cores (`sockets: 1`, `cores: 8`), which is what most
Talos VMs need.

## Source
Proxmox VE wiki "NUMA" (https://pve.proxmox.com/wiki/NUMA); Proxmox `qm.adoc` "NUMA";
qemu-server `numa` default 0.
"#,
};

pub struct NumaOff;

impl Rule for NumaOff {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["numa", "sockets"]))
        {
            let Some(sockets) = vm.sockets.as_ref().filter(|s| s.value > 1) else {
                continue;
            };
            let finding = match &vm.numa {
                Some(numa) if numa.value => continue,
                Some(numa) => META.finding(
                    numa.at,
                    format!("{} has `sockets: {}` but `numa: 0`: the guest cannot see which memory is local", vm.label(), sockets.value),
                ),
                None => META.finding(
                    sockets.at,
                    format!("{} has `sockets: {}` without `numa: 1`: the guest cannot see which memory is local", vm.label(), sockets.value),
                ),
            };
            out.push(finding.help("set `numa: 1`, or use `sockets: 1` with more cores"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    fn findings_with(sockets: u32, numa: Option<bool>) -> Vec<Finding> {
        let mut vm = good_vm(201, "w-1", 0);
        vm.sockets = Some(fact(sockets, 90));
        vm.numa = numa.map(|n| fact(n, 91));
        run(&NumaOff, &cluster_of(vec![vm], 1500))
    }

    #[test]
    fn fires_on_several_sockets_without_numa() {
        assert_eq!(
            findings_with(2, None).first().map(|f| f.at),
            Some(fact((), 90).at)
        );
        assert_eq!(
            findings_with(2, Some(false)).first().map(|f| f.at),
            Some(fact((), 91).at)
        );
    }

    #[test]
    fn silent_with_numa_or_one_socket() {
        assert!(findings_with(2, Some(true)).is_empty());
        assert!(findings_with(1, None).is_empty());
    }
}
