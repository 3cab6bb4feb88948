use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::{Fact, Location};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

pub static META: RuleMeta = RuleMeta {
    code: "NET004",
    name: "address-conflict",
    layer: Layer::Network,
    severity: Severity::Error,
    summary: "A duplicate IP or MAC address, a node address outside the subnet, or a gateway outside it.",
    docs: r#"## What
- two Talos nodes with the same static address, or a node address equal to the gateway;
- two VM NICs with the same MAC address;
- a node address outside the cluster subnet (`network.cidr`);
- the gateway outside that subnet.

Duplicates are reported at the later occurrence, with the first as a related location.

## Why
Two hosts answering ARP for one address take turns receiving its traffic: etcd loses quorum
intermittently, the API endpoint flaps, and Longhorn replicas disconnect. Two VMs with one MAC
on a bridge confuse the bridge's forwarding table in the same way. A node outside the subnet,
or a gateway it cannot reach on-link, leaves the node without a default route: Talos cannot pull
images or reach the other nodes.

## Example
```yaml
# talos/nodes/w-1.yaml and talos/nodes/w-2.yaml
machine:
  network:
    interfaces:
      - interface: eth0
        addresses: [10.20.0.21/24]
```

## Fix
Give every node its own address inside the subnet (and reserve it outside the DHCP range),
every VM its own MAC (or let Proxmox generate one), and a gateway inside the subnet.

## Source
IPv4 ARP (RFC 826) and Ethernet bridging (IEEE 802.1D learning); Proxmox generates unique MACs
with the `BC:24:11` prefix only through the API (`qm.conf` files copied by hand keep theirs).
"#,
};

/// `10.20.0.21/24` or `10.20.0.21` → the address.
fn address_of(written: &str) -> Option<IpAddr> {
    written.split('/').next()?.trim().parse().ok()
}

fn in_subnet(addr: Ipv4Addr, (net, prefix): (Ipv4Addr, u8)) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    u32::from(addr) & mask == u32::from(net) & mask
}

/// Reports each value already seen (by its key), at the later fact. The same owner seen twice
/// (a node described by the intent and by its own patch) is one machine, not a conflict.
fn report_duplicates<'a, K: Eq + std::hash::Hash>(
    items: impl Iterator<Item = (K, &'a Fact<String>, String)>,
    what: &str,
    out: &mut Vec<Finding>,
) {
    let mut first: HashMap<K, (Location, String)> = HashMap::new();
    for (key, fact, owner) in items {
        match first.get(&key) {
            Some((_, first_owner)) if *first_owner == owner => {}
            Some((first_at, first_owner)) => out.push(
                META.finding(
                    fact.at,
                    format!(
                        "{owner} uses {what} {}, which {first_owner} already uses",
                        fact.value
                    ),
                )
                .related(*first_at, format!("{first_owner} uses it here"))
                .help(format!("give {owner} {} {what} of its own", article(what))),
            ),
            None => {
                first.insert(key, (fact.at, owner));
            }
        }
    }
}

/// `a` or `an` before a noun (`an address`, `a MAC address`).
fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn check_addresses(cluster: &Cluster, out: &mut Vec<Finding>) {
    let gateway = cluster.network.gateway.as_ref();
    let gateway_fact = gateway.map(|g| Fact::new(g.value.to_string(), g.at));
    let addresses = gateway_fact
        .iter()
        .map(|g| (g, "the gateway".to_string()))
        .chain(cluster.talos.nodes.iter().flat_map(|node| {
            node.addresses
                .iter()
                .map(move |a| (a, format!("node `{}`", node.name)))
        }))
        .filter_map(|(fact, owner)| Some((address_of(&fact.value)?, fact, owner)));
    report_duplicates(addresses, "address", out);
}

fn check_macs(cluster: &Cluster, out: &mut Vec<Finding>) {
    let macs = cluster.vms.iter().flat_map(|vm| {
        vm.nics.iter().filter_map(move |nic| {
            nic.mac.as_ref().map(|mac| {
                (
                    mac.value.to_ascii_lowercase(),
                    mac,
                    format!("{} `{}`", vm.label(), nic.slot),
                )
            })
        })
    });
    report_duplicates(macs, "MAC address", out);
}

fn check_subnet(cluster: &Cluster, out: &mut Vec<Finding>) {
    let Some(cidr) = &cluster.network.cidr else {
        return;
    };
    let (net, prefix) = cidr.value;
    let subnet = format!("{net}/{prefix}");
    if let Some(gateway) = cluster
        .network
        .gateway
        .as_ref()
        .filter(|g| !in_subnet(g.value, cidr.value))
    {
        out.push(
            META.finding(gateway.at, format!("the gateway {} is outside the cluster subnet {subnet}: nodes cannot reach it on-link", gateway.value))
                .related(cidr.at, "the subnet is declared here")
                .help("use a gateway address inside the subnet"),
        );
    }
    for node in &cluster.talos.nodes {
        for address in &node.addresses {
            let Some(IpAddr::V4(ip)) = address_of(&address.value) else {
                continue;
            };
            if !in_subnet(ip, cidr.value) {
                out.push(
                    META.finding(
                        address.at,
                        format!(
                            "node `{}`'s address {} is outside the cluster subnet {subnet}",
                            node.name, address.value
                        ),
                    )
                    .related(cidr.at, "the subnet is declared here")
                    .help("use an address inside the cluster subnet"),
                );
            }
        }
    }
}

pub struct AddressConflict;

impl Rule for AddressConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        check_addresses(cluster, out);
        check_macs(cluster, out);
        check_subnet(cluster, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TalosNode;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, loc, run};

    fn node(name: &str, address: &str, n: usize) -> TalosNode {
        let mut node = TalosNode::new(name, loc(n));
        node.addresses.push(fact(address.to_string(), n + 1));
        node
    }

    fn ats(findings: &[Finding]) -> Vec<Location> {
        findings.iter().map(|f| f.at).collect()
    }

    #[test]
    fn subnet_edges() {
        let net: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 20, 0, 0), 24);
        assert!(in_subnet(Ipv4Addr::new(10, 20, 0, 255), net));
        assert!(!in_subnet(Ipv4Addr::new(10, 20, 1, 1), net));
        assert!(in_subnet(
            Ipv4Addr::new(192, 168, 1, 1),
            (Ipv4Addr::UNSPECIFIED, 0)
        ));
        assert!(!in_subnet(
            Ipv4Addr::new(10, 0, 0, 2),
            (Ipv4Addr::new(10, 0, 0, 1), 32)
        ));
    }

    #[test]
    fn duplicate_address_is_reported_at_the_second_node() {
        let mut cluster = cluster_of(Vec::new(), 1500);
        cluster.talos.nodes = vec![
            node("w-1", "10.20.0.21/24", 10),
            node("w-2", "10.20.0.21", 20),
        ];
        let findings = run(&AddressConflict, &cluster);
        assert_eq!(ats(&findings), [fact((), 21).at]);
        assert_eq!(
            findings[0].related.first().map(|r| r.at),
            Some(fact((), 11).at)
        );
    }

    #[test]
    fn one_node_described_twice_is_no_conflict() {
        let mut cluster = cluster_of(Vec::new(), 1500);
        cluster.talos.nodes = vec![
            node("w-1", "10.20.0.21/24", 10),
            node("w-1", "10.20.0.21/24", 20),
        ];
        assert!(run(&AddressConflict, &cluster).is_empty());
    }

    #[test]
    fn node_using_the_gateway_address_conflicts() {
        let mut cluster = cluster_of(Vec::new(), 1500);
        cluster.network.gateway = Some(fact(Ipv4Addr::new(10, 20, 0, 1), 5));
        cluster.talos.nodes = vec![node("w-1", "10.20.0.1/24", 10)];
        assert_eq!(ats(&run(&AddressConflict, &cluster)), [fact((), 11).at]);
    }

    #[test]
    fn duplicate_mac_is_case_insensitive() {
        let first = good_vm(201, "w-1", 0);
        let mut second = good_vm(202, "w-2", 100);
        if let (Some(nic), Some(mac)) = (
            second.nics.first_mut(),
            first.nics.first().and_then(|n| n.mac.clone()),
        ) {
            nic.mac = Some(fact(mac.value.to_lowercase(), 141));
        }
        let findings = run(&AddressConflict, &cluster_of(vec![first, second], 1500));
        assert_eq!(ats(&findings), [fact((), 141).at]);
    }

    #[test]
    fn addresses_and_gateway_outside_the_subnet() {
        let mut cluster = cluster_of(Vec::new(), 1500);
        cluster.network.cidr = Some(fact((Ipv4Addr::new(10, 20, 0, 0), 24), 4));
        cluster.network.gateway = Some(fact(Ipv4Addr::new(10, 30, 0, 1), 5));
        cluster.talos.nodes = vec![
            node("w-1", "10.20.0.21/24", 10),
            node("w-2", "10.20.1.22/24", 20),
        ];
        assert_eq!(
            ats(&run(&AddressConflict, &cluster)),
            [fact((), 5).at, fact((), 21).at]
        );
    }

    #[test]
    fn silent_on_a_consistent_network() {
        let mut cluster = cluster_of(vec![good_vm(201, "w-1", 0), good_vm(202, "w-2", 100)], 1500);
        cluster.network.cidr = Some(fact((Ipv4Addr::new(10, 20, 0, 0), 24), 4));
        cluster.network.gateway = Some(fact(Ipv4Addr::new(10, 20, 0, 1), 5));
        cluster.talos.nodes = vec![
            node("w-1", "10.20.0.21/24", 10),
            node("w-2", "10.20.0.22/24", 20),
        ];
        assert!(run(&AddressConflict, &cluster).is_empty());
    }
}
