use crate::finding::{Finding, Severity};
use crate::knowledge::talos::QEMU_GUEST_AGENT as GUEST_AGENT_EXTENSION;
use crate::model::Cluster;
use crate::model::talos::SchematicFacts;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE012",
    name: "guest-agent-mismatch",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "`agent` is on without the qemu-guest-agent extension in the schematic, or the reverse.",
    docs: r#"## What
The VM's `agent` setting and the Talos schematic disagree:
- `agent: 1` (or `enabled=1`) while the schematic lacks `siderolabs/qemu-guest-agent`;
- the schematic carries `siderolabs/qemu-guest-agent` while the VM has no `agent: 1`.

Silent when the repository has no schematic (the extension list is unknown).

## Why
With `agent` on and no agent in the guest, Proxmox waits for an agent that never answers:
shutdown and backups time out (freeze/thaw), the GUI shows no addresses, and logs fill with
agent errors. The reverse wastes the extension: Proxmox never opens the agent channel, so
clean shutdowns and IP reporting do not work.

## Example
```
agent: 1
```
with `talos/schematic.yaml` listing only `siderolabs/iscsi-tools`.

## Fix
Keep both in step: add `siderolabs/qemu-guest-agent` to the schematic's
`customization.systemExtensions.officialExtensions` (and upgrade to the new installer), or set
`agent: 0`.

## Source
Talos Proxmox guide ("QEMU guest agent support": enable the agent in the VM options when the
image has the extension); Talos docs Proxmox page (enable the agent only with the extension).
"#,
};

fn describe_agent(enabled: Option<bool>) -> &'static str {
    match enabled {
        Some(true) => "`agent: 1`",
        Some(false) => "`agent: 0`",
        None => "no `agent` line (off)",
    }
}

pub struct GuestAgentMismatch;

impl GuestAgentMismatch {
    fn check_with(cluster: &Cluster, schematic: &SchematicFacts, out: &mut Vec<Finding>) {
        let extension = schematic
            .extensions
            .iter()
            .find(|e| e.value == GUEST_AGENT_EXTENSION);
        for vm in cluster.vms.iter().filter(|vm| !vm.any_unknown(&["agent"])) {
            let enabled = vm.agent.as_ref().is_some_and(|a| a.value);
            let agent_at = vm.agent.as_ref().map_or(vm.origin, |a| a.at);
            match (enabled, extension) {
                (true, None) => out.push(
                    META.finding(
                        agent_at,
                        format!(
                            "{} has `agent: 1` but the Talos schematic lacks `{GUEST_AGENT_EXTENSION}`: Proxmox waits for an agent that never answers",
                            vm.label()
                        ),
                    )
                    .related(schematic.at, "the schematic's extensions are listed here")
                    .help(format!("add `{GUEST_AGENT_EXTENSION}` to the schematic, or set `agent: 0`")),
                ),
                (false, Some(extension)) => out.push(
                    META.finding(
                        agent_at,
                        format!(
                            "{} has {} but the Talos schematic includes `{GUEST_AGENT_EXTENSION}`: Proxmox never talks to the agent",
                            vm.label(),
                            describe_agent(vm.agent.as_ref().map(|a| a.value))
                        ),
                    )
                    .related(extension.at, "the guest agent extension is added here")
                    .help("set `agent: enabled=1,fstrim_cloned_disks=1`"),
                ),
                _ => {}
            }
        }
    }
}

impl Rule for GuestAgentMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        if let Some(schematic) = &cluster.talos.schematic {
            Self::check_with(cluster, schematic, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, loc, run};

    fn findings_with(agent: Option<bool>, extensions: Option<&[&str]>) -> Vec<Finding> {
        let mut vm = good_vm(201, "w-1", 0);
        vm.agent = agent.map(|a| fact(a, 90));
        let mut cluster = cluster_of(vec![vm], 1500);
        cluster.talos.schematic = extensions.map(|list| SchematicFacts {
            file: None,
            at: loc(700),
            extensions: list
                .iter()
                .enumerate()
                .map(|(i, e)| fact((*e).to_string(), 701 + i))
                .collect(),
            kernel_args: Vec::new(),
            id_as_written: None,
            id_sorted: None,
        });
        run(&GuestAgentMismatch, &cluster)
    }

    #[test]
    fn agent_without_extension_points_at_agent() {
        let findings = findings_with(Some(true), Some(&["siderolabs/iscsi-tools"]));
        assert_eq!(
            findings.iter().map(|f| f.at).collect::<Vec<_>>(),
            [fact((), 90).at]
        );
    }

    #[test]
    fn extension_without_agent_relates_the_extension() {
        let findings = findings_with(
            None,
            Some(&["siderolabs/iscsi-tools", GUEST_AGENT_EXTENSION]),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].at, good_vm(201, "w-1", 0).origin);
        assert_eq!(findings[0].related[0].at, fact((), 702).at);
    }

    #[test]
    fn silent_when_both_agree_or_the_schematic_is_unknown() {
        assert!(findings_with(Some(true), Some(&[GUEST_AGENT_EXTENSION])).is_empty());
        assert!(findings_with(Some(false), Some(&["siderolabs/iscsi-tools"])).is_empty());
        assert!(findings_with(Some(true), None).is_empty());
    }
}
