use super::guest_mtu::{guest_mtu, primary_nic};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Fact;

pub static META: RuleMeta = RuleMeta {
    code: "NET002",
    name: "cni-mtu",
    layer: Layer::Network,
    severity: Severity::Error,
    summary: "The CNI MTU is larger than the node link MTU minus the encapsulation overhead.",
    docs: r#"## What
The CNI's MTU (the intent's `network.cni.mtu`, or Cilium's Helm value `MTU`) plus its
encapsulation overhead exceeds the smallest node link MTU. Overhead: 50 bytes for VXLAN, 50 for
Geneve, 0 for native routing (Cilium `routingMode: native`). A node's link MTU is its Talos
link MTU, or what its VM NIC gives it (see NET001).

Silent when the CNI sets no MTU (Cilium then detects it), when the encapsulation is unknown,
and for Flannel (Talos's default CNI), which derives its MTU from the link itself.

## Why
Pod packets are wrapped in a VXLAN/Geneve header before they leave the node. A pod MTU that
leaves no room for it produces outer packets bigger than the link: they are dropped (not
fragmented), so DNS and small requests work while large responses, image pulls from in-cluster
registries and Longhorn's replica traffic over pod networking stall.

## Example
```yaml
network:
  mtu: 1500
  cni: { name: cilium, mtu: 1500, encapsulation: vxlan }
```

## Fix
Set the CNI MTU to at most the link MTU minus the overhead (`8950` on a 9000 link with
VXLAN), or leave it unset so the CNI detects it, or use native routing.

## Source
Cilium Helm values (`MTU`, `routingMode`, `tunnelProtocol`); VXLAN encapsulation adds 50 bytes
(RFC 7348: outer IPv4 20 + UDP 8 + VXLAN 8 + the inner Ethernet header 14).
"#,
};

/// The smallest link MTU of any node, with where it is set.
fn smallest_link_mtu(cluster: &Cluster) -> Option<Fact<u32>> {
    let from_vms = cluster.vms.iter().filter_map(|vm| {
        let nic = primary_nic(vm)?;
        guest_mtu(cluster, vm, nic).map(|g| Fact::new(g.value, g.at))
    });
    let from_nodes_without_vm = cluster
        .talos
        .nodes
        .iter()
        .filter(|node| cluster.vm_of(node).is_none())
        .filter_map(|node| node.link_mtu.clone());
    from_vms
        .chain(from_nodes_without_vm)
        .min_by_key(|mtu| mtu.value)
}

pub struct CniMtu;

impl Rule for CniMtu {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(cni) = &cluster.network.cni else {
            return;
        };
        if cni.name.value.eq_ignore_ascii_case("flannel") {
            return;
        }
        let (Some(cni_mtu), Some(overhead)) = (&cni.mtu, cni.overhead()) else {
            return;
        };
        let Some(link) = smallest_link_mtu(cluster) else {
            return;
        };
        if cni_mtu.value.saturating_add(overhead) <= link.value {
            return;
        }
        let encapsulation = cni
            .encapsulation
            .as_ref()
            .map_or("encapsulation", |e| e.value.as_str());
        out.push(
            META.finding(
                cni_mtu.at,
                format!(
                    "{} MTU {} plus {overhead} bytes of {encapsulation} overhead exceeds the node link MTU {}: encapsulated pod packets are dropped",
                    cni.name.value,
                    cni_mtu.value,
                    link.value
                ),
            )
            .related(link.at, format!("the smallest node link MTU, {}, comes from here", link.value))
            .help(format!(
                "set the CNI MTU to {} or less, or leave it unset",
                link.value.saturating_sub(overhead)
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::Cni;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, run};

    fn findings_with(
        name: &str,
        cni_mtu: Option<u32>,
        encapsulation: Option<&str>,
        bridge: u32,
    ) -> Vec<Finding> {
        let mut cluster = cluster_of(vec![good_vm(201, "w-1", 0)], bridge);
        cluster.network.cni = Some(Cni {
            name: fact(name.to_string(), 700),
            mtu: cni_mtu.map(|m| fact(m, 701)),
            encapsulation: encapsulation.map(|e| fact(e.to_string(), 702)),
        });
        run(&CniMtu, &cluster)
    }

    #[test]
    fn fires_when_the_overhead_does_not_fit() {
        let findings = findings_with("cilium", Some(9000), Some("vxlan"), 9000);
        assert_eq!(
            findings.iter().map(|f| f.at).collect::<Vec<_>>(),
            [fact((), 701).at]
        );
        assert_eq!(
            findings[0].help.as_deref(),
            Some("set the CNI MTU to 8950 or less, or leave it unset")
        );
        assert_eq!(
            findings_with("cilium", Some(1500), Some("geneve"), 1500).len(),
            1
        );
    }

    #[test]
    fn silent_when_it_fits_or_is_unknown() {
        assert!(findings_with("cilium", Some(8950), Some("vxlan"), 9000).is_empty());
        assert!(findings_with("cilium", Some(9000), Some("native"), 9000).is_empty());
        assert!(findings_with("cilium", None, Some("vxlan"), 1500).is_empty());
        assert!(findings_with("cilium", Some(1500), None, 1500).is_empty());
        assert!(findings_with("flannel", Some(1500), Some("vxlan"), 1500).is_empty());
    }
}
