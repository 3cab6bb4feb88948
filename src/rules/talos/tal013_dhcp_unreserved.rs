use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL013",
    name: "dhcp-unreserved",
    layer: Layer::Talos,
    severity: Severity::Warning,
    summary: "A Talos node whose network config gives it no static address.",
    docs: r#"## What
A node whose Talos network config (its per-node patch, or the intent) sets no static address:
DHCP only, or no addressing at all. Silent when the node's network config is not in the
repository.

## Why
A Talos install reboots several times (maintenance mode, install, first boot). Without a
static address or a DHCP reservation the node may come back at another address each time:
`talosctl` loses it, the control-plane endpoint or certificate SANs stop matching, and the
Longhorn node can reappear with a new identity.

## Example
```yaml
machine:
  network:
    interfaces:
      - interface: eth0
        dhcp: true
```

## Fix
Give the node a static address (`addresses: [10.20.0.21/24]` with a default route, or a
`LinkConfig` on Talos ≥ 1.12), or reserve its MAC address on the DHCP server and set the same
MAC on the Proxmox NIC.

## Source
Talos install guides (maintenance-mode apply, reboots); talhorn research `talos.md` §3.1.
"#,
};

pub struct DhcpUnreserved;

impl Rule for DhcpUnreserved {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for node in cluster
            .talos
            .nodes
            .iter()
            .filter(|n| n.network_known && n.addresses.is_empty())
        {
            let at = node
                .dhcp
                .as_ref()
                .filter(|d| d.value)
                .map_or(node.at, |d| d.at);
            out.push(
                META.finding(
                    at,
                    format!("node `{}` has no static address: its address may change across the reboots of an install", node.name),
                )
                .help("set a static address in the node's network config, or reserve its MAC address on the DHCP server"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::rules::talos::testing::{at, cluster, fact, node, run};

    #[test]
    fn fires_at_dhcp_when_no_address_is_static() {
        let mut c = cluster();
        let mut n = node("w-1", Role::Worker, 10);
        n.network_known = true;
        n.dhcp = Some(fact(true, 12));
        c.talos.nodes.push(n);
        let found = run(&DhcpUnreserved, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(12));
    }

    #[test]
    fn silent_with_a_static_address_or_unknown_network() {
        let mut c = cluster();
        let mut static_node = node("w-1", Role::Worker, 10);
        static_node.network_known = true;
        static_node.addresses.push(fact("10.20.0.21/24".into(), 14));
        c.talos.nodes.push(static_node);
        c.talos.nodes.push(node("w-2", Role::Worker, 20));
        assert!(run(&DhcpUnreserved, &c).is_empty());
    }
}
