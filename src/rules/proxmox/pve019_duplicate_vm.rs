use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Vm};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Fact;
use std::collections::HashMap;
use std::hash::Hash;

pub static META: RuleMeta = RuleMeta {
    code: "PVE019",
    name: "duplicate-vm",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "Two VMs with the same vmid or the same name.",
    docs: r#"## What
Two VM configs (or intent nodes) with the same VMID, or the same `name`. Reported at the second
one, with the first as a related location.

## Why
A VMID is the VM's identity in the whole Proxmox cluster: its config is the single file
`/etc/pve/qemu-server/<vmid>.conf`, replicated to every node, so two VMs with one VMID cannot
both exist — one config replaces the other, or creating the second fails. Names are not enforced unique by Proxmox, but talhorn joins a VM to
its Talos node by name: two VMs named `w-1` make the Talos and Longhorn checks of one of them
silently wrong, and Kubernetes rejects two nodes with one hostname.

## Example
```
proxmox/201-w-1.conf    name: w-1
proxmox/202-w-2.conf    name: w-1
```

## Fix
Give every VM its own VMID and name (`202` / `w-2`).

## Source
Proxmox `qm.conf.adoc` (the config path `/etc/pve/qemu-server/<VMID>.conf`, replicated by
pmxcfs); qemu-server `parse_vm_config` (the VMID is the file name); Kubernetes node names are
unique.
"#,
};

/// Reports every VM whose key (vmid or name) an earlier VM already has.
fn report_duplicates<K: Eq + Hash + std::fmt::Display>(
    vms: &[Vm],
    key: impl Fn(&Vm) -> Option<Fact<K>>,
    what: &str,
    out: &mut Vec<Finding>,
) {
    let mut first_seen: HashMap<K, (String, crate::source::Location)> = HashMap::new();
    for vm in vms {
        let Some(fact) = key(vm) else { continue };
        if let Some((first_label, first_at)) = first_seen.get(&fact.value) {
            out.push(
                META.finding(
                    fact.at,
                    format!(
                        "{} has the same {what} `{}` as {first_label}: each VM needs its own",
                        vm.label(),
                        fact.value
                    ),
                )
                .related(
                    *first_at,
                    format!("{first_label} uses {what} `{}`", fact.value),
                )
                .help(format!("give this VM a {what} that no other VM uses")),
            );
        } else {
            first_seen.insert(fact.value, (vm.label(), fact.at));
        }
    }
}

pub struct DuplicateVm;

impl Rule for DuplicateVm {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        report_duplicates(&cluster.vms, |vm| vm.vmid.clone(), "VMID", out);
        // A Terraform template VM's name stands for many VMs (or is only its address).
        let name = |vm: &Vm| vm.name.clone().filter(|_| !vm.is_unknown("name"));
        report_duplicates(&cluster.vms, name, "name", out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, good_vm, run};

    #[test]
    fn the_later_vm_is_reported_with_the_first_related() {
        let first = good_vm(201, "w-1", 0);
        let second = good_vm(201, "w-2", 100);
        let (first_at, second_at) = (
            first.vmid.clone().map(|f| f.at),
            second.vmid.clone().map(|f| f.at),
        );
        let findings = run(&DuplicateVm, &cluster_of(vec![first, second], 1500));
        assert_eq!(findings.len(), 1);
        assert_eq!(Some(findings[0].at), second_at);
        assert_eq!(findings[0].related.first().map(|r| r.at), first_at);
    }

    #[test]
    fn duplicate_names_are_reported_too() {
        let findings = run(
            &DuplicateVm,
            &cluster_of(vec![good_vm(201, "w-1", 0), good_vm(202, "w-1", 100)], 1500),
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("name `w-1`"));
    }

    #[test]
    fn silent_on_distinct_vms() {
        assert!(
            run(
                &DuplicateVm,
                &cluster_of(vec![good_vm(201, "w-1", 0), good_vm(202, "w-2", 100)], 1500)
            )
            .is_empty()
        );
    }
}
