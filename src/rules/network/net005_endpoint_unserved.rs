use crate::finding::{Finding, Severity};
use crate::intent::{endpoint_host, in_subnet};
use crate::model::{Cluster, Role, TalosNode};
use crate::rules::{Layer, Rule, RuleMeta};
use std::net::Ipv4Addr;

pub static META: RuleMeta = RuleMeta {
    code: "NET005",
    name: "endpoint-unserved",
    layer: Layer::Network,
    severity: Severity::Error,
    summary: "The cluster endpoint is an IP in the node subnet that no control plane holds and no VIP serves.",
    docs: r#"## What
The Kubernetes API endpoint (`cluster.endpoint` in the intent, `cluster.controlPlane.endpoint`
in a Talos machine config) names an IPv4 address inside the node subnet, and that address is
neither a control plane's own address nor a shared VIP (`cluster.vip` in the intent,
`machine.network.interfaces[].vip.ip` up to Talos 1.11, a `Layer2VIPConfig` from 1.12).

A DNS name is assumed to be served (the RUNBOOK says what must answer there), and so is an
address outside the node subnet (an external load balancer). The rule needs the control
planes' addresses to be known: without any, it stays silent.

## Why
Every kubelet, `talosctl kubeconfig` and the kubeconfig it writes talk to the endpoint. When
nothing answers there, bootstrap never completes: the control planes come up, the workers never
join, `kubectl` times out.

## Example
```yaml
cluster:
  endpoint: https://10.20.0.10:6443   # no node holds 10.20.0.10, no VIP
nodes:
  - { name: cp-1, role: controlplane, vmid: 101, ip: 10.20.0.11 }
```

## Fix
Add `cluster.vip: 10.20.0.10` to the intent (talhorn emits the Layer-2 VIP on the control
planes in the dialect of the version), or point the endpoint at a control plane's address, or
at a DNS name that a load balancer answers. In hand-written configs, add the VIP to the control
planes' link (`vip: {ip: ...}` up to 1.11, `Layer2VIPConfig` from 1.12).

## Source
siderolabs/talos `pkg/machinery/config/types/network/layer2_vip.go` (v1.12+),
`v1alpha1_types.go` `DeviceVIPConfig` (≤ v1.11); Talos docs "Virtual (shared) IP".
"#,
};

pub struct EndpointUnserved;

/// `https://10.20.0.10:6443` → its IPv4 address; `None` for a DNS name or IPv6.
fn endpoint_ip(endpoint: &str) -> Option<Ipv4Addr> {
    endpoint_host(endpoint).parse().ok()
}

/// `10.20.0.11/24` → (address, prefix); a bare address has no subnet.
fn address_and_prefix(written: &str) -> Option<(Ipv4Addr, Option<u8>)> {
    let (address, prefix) = match written.trim().split_once('/') {
        Some((a, p)) => (a, Some(p.parse().ok()?)),
        None => (written.trim(), None),
    };
    Some((address.parse().ok()?, prefix))
}

fn control_planes(cluster: &Cluster) -> impl Iterator<Item = &TalosNode> {
    cluster
        .talos
        .nodes
        .iter()
        .filter(|n| n.role == Some(Role::Controlplane))
}

/// Whether `ip` is inside the node subnet: the declared one, else a control plane's.
fn in_node_subnet(cluster: &Cluster, ip: Ipv4Addr) -> bool {
    if let Some(cidr) = &cluster.network.cidr {
        return in_subnet(ip, cidr.value.0, cidr.value.1);
    }
    control_planes(cluster)
        .flat_map(|n| &n.addresses)
        .filter_map(|a| address_and_prefix(&a.value))
        .any(|(net, prefix)| prefix.is_some_and(|p| in_subnet(ip, net, p)))
}

impl Rule for EndpointUnserved {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(endpoint) = &cluster.network.endpoint else {
            return;
        };
        let Some(ip) = endpoint_ip(&endpoint.value) else {
            return;
        };
        let addresses: Vec<Ipv4Addr> = control_planes(cluster)
            .flat_map(|n| &n.addresses)
            .filter_map(|a| address_and_prefix(&a.value).map(|(addr, _)| addr))
            .collect();
        if addresses.is_empty() || !in_node_subnet(cluster, ip) {
            return;
        }
        let vips: Vec<Ipv4Addr> = cluster
            .talos
            .nodes
            .iter()
            .filter_map(|n| n.vip.as_ref()?.value.parse().ok())
            .collect();
        if addresses.contains(&ip) || vips.contains(&ip) {
            return;
        }
        out.push(
            META.finding(
                endpoint.at,
                format!("nothing answers on the endpoint {ip}: no control plane holds it and no VIP serves it"),
            )
            .help(format!(
                "make {ip} a shared VIP of the control planes (intent: `cluster.vip: {ip}`), or point the endpoint at a control plane's address or a load-balanced DNS name"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::talos::testing::{cluster, fact, node, run};

    fn with_endpoint(endpoint: &str) -> Cluster {
        let mut c = cluster();
        c.network.endpoint = Some(fact(endpoint.to_string(), 1));
        let mut cp = node("cp-1", Role::Controlplane, 10);
        cp.addresses.push(fact("10.20.0.11/24".into(), 11));
        c.talos.nodes.push(cp);
        c
    }

    #[test]
    fn an_address_nobody_holds_fires() {
        assert_eq!(
            run(&EndpointUnserved, &with_endpoint("https://10.20.0.10:6443")).len(),
            1
        );
    }

    #[test]
    fn a_control_plane_address_a_vip_a_dns_name_or_another_subnet_are_served() {
        assert!(run(&EndpointUnserved, &with_endpoint("https://10.20.0.11:6443")).is_empty());
        assert!(
            run(
                &EndpointUnserved,
                &with_endpoint("https://k8s.example.org:6443")
            )
            .is_empty()
        );
        assert!(
            run(
                &EndpointUnserved,
                &with_endpoint("https://192.168.1.5:6443")
            )
            .is_empty()
        );
        let mut c = with_endpoint("https://10.20.0.10:6443");
        c.talos.nodes[0].vip = Some(fact("10.20.0.10".into(), 12));
        assert!(run(&EndpointUnserved, &c).is_empty());
    }

    #[test]
    fn a_garbage_prefix_does_not_panic() {
        let mut c = with_endpoint("https://10.20.0.10:6443");
        c.talos.nodes[0].addresses[0].value = "10.20.0.11/99".into();
        // `/99` counts as `/32`: the endpoint is outside that "subnet", so nothing is claimed.
        assert!(run(&EndpointUnserved, &c).is_empty());
    }

    #[test]
    fn without_known_control_planes_it_stays_silent() {
        let mut c = with_endpoint("https://10.20.0.10:6443");
        c.talos.nodes.clear();
        assert!(run(&EndpointUnserved, &c).is_empty());
    }
}
