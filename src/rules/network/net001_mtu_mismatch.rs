use super::guest_mtu::{MtuSource, bridge_of, guest_mtu};
use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Nic, Vm};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Fact;

pub static META: RuleMeta = RuleMeta {
    code: "NET001",
    name: "mtu-mismatch",
    layer: Layer::Network,
    severity: Severity::Error,
    summary: "The MTU differs along bridge → VM NIC → Talos link (including PVE 8's VirtIO default of 1500).",
    docs: r#"## What
For each VM NIC on a bridge whose MTU is known (`/etc/network/interfaces` or the intent):
- `mtu=N` on the NIC larger than the bridge's MTU: the VM does not start;
- the guest's MTU differs from the bridge's. The guest's MTU is the Talos link MTU when the
  node's config sets one; otherwise what the NIC gives it: `mtu=N`; the bridge's MTU with
  `mtu=1`; with no `mtu`, the bridge's MTU on PVE 9 but **1500 on PVE 8**; 1500 on a non-VirtIO
  NIC (Proxmox ignores `mtu` there).

The host's tap device always runs at the bridge's MTU, so a guest that sets 9000 itself on PVE 8
is fine. When the guest's MTU is only a default (PVE 8, no `mtu`) and talhorn has not seen the
node's Talos network config, the finding is a warning: the guest may set its MTU itself.

## Why
Jumbo frames only work when every hop agrees. A guest at 1500 on a 9000 bridge cannot receive
the 9000-byte frames other nodes send it (dropped, not fragmented), and a guest at 9000 on a
1500 bridge sends frames the bridge drops: small packets work, large transfers (Longhorn
replication, image pulls, etcd snapshots) hang.

## Example
```
# /etc/network/interfaces: vmbr0 has mtu 9000; PVE 8
net0: virtio=BC:24:11:2C:69:EC,bridge=vmbr0
```

## Fix
On PVE 8 add `mtu=1` to the NIC to inherit the bridge's MTU (`net0: virtio=…,bridge=vmbr0,mtu=1`);
on PVE 9 drop an explicit `mtu=`; and make the Talos link MTU equal to the bridge's, or leave
it unset.

## Source
qemu-server `print_netdevice_full` (PVE 9 since qemu-server 9.0.4 inherits the bridge MTU when
`mtu` is unset; PVE 8 only with `mtu=1`; "MTU … is bigger than the bridge MTU"); Proxmox
`qm.adoc` network device docs (PVE 8 and 9); pve-common `Network.pm` (tap at the bridge MTU).
"#,
};

fn check_nic(
    cluster: &Cluster,
    vm: &Vm,
    nic: &Nic,
    bridge_name: &str,
    bridge_mtu: &Fact<u32>,
    out: &mut Vec<Finding>,
) {
    let bridge_note = format!("bridge `{bridge_name}` has MTU {}", bridge_mtu.value);
    if let Some(mtu) = nic
        .mtu
        .as_ref()
        .filter(|m| m.value > 1 && nic.model.value == "virtio")
        && mtu.value > bridge_mtu.value
    {
        out.push(
            META.finding(
                mtu.at,
                format!(
                    "{}: `{}` has `mtu={}`, bigger than the MTU {} of bridge `{bridge_name}`: Proxmox refuses to start the VM",
                    vm.label(),
                    nic.slot,
                    mtu.value,
                    bridge_mtu.value
                ),
            )
            .related(bridge_mtu.at, bridge_note)
            .help("use `mtu=1` to inherit the bridge's MTU"),
        );
        return;
    }
    let Some(guest) = guest_mtu(cluster, vm, nic) else {
        return;
    };
    if guest.value == bridge_mtu.value {
        return;
    }
    let network_seen = cluster
        .talos_node_of(vm)
        .is_some_and(|node| node.network_known);
    let (severity, why, help) = match guest.source {
        MtuSource::TalosLink => (
            Severity::Error,
            "as its Talos link config sets",
            "set the Talos link MTU to the bridge's MTU, or leave it unset",
        ),
        MtuSource::NicSetting => (
            Severity::Error,
            "as the NIC's `mtu=` sets",
            "use `mtu=1` to inherit the bridge's MTU",
        ),
        MtuSource::Bridge => return,
        MtuSource::Pve8Default => (
            if network_seen {
                Severity::Error
            } else {
                Severity::Warning
            },
            "PVE 8's default for a VirtIO NIC without `mtu`",
            "add `mtu=1` to the NIC so the guest inherits the bridge's MTU",
        ),
        MtuSource::NonVirtio => (
            if network_seen {
                Severity::Error
            } else {
                Severity::Warning
            },
            "a non-VirtIO NIC ignores `mtu`",
            "use `virtio` as the NIC model",
        ),
    };
    let mut finding = META
        .finding_at(
            severity,
            guest.at,
            format!(
                "{}: the guest runs `{}` at MTU {} ({why}), but bridge `{bridge_name}` runs at MTU {}: large frames are dropped",
                vm.label(),
                nic.slot,
                guest.value,
                bridge_mtu.value
            ),
        )
        .related(bridge_mtu.at, bridge_note);
    if guest.source == MtuSource::TalosLink {
        finding = finding.related(nic.at, format!("the VM's NIC `{}`", nic.slot));
    }
    out.push(finding.help(help));
}

pub struct MtuMismatch;

impl Rule for MtuMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["nics", "nic.mtu", "nic.bridge"]))
        {
            for nic in &vm.nics {
                let Some(bridge) = bridge_of(cluster, nic) else {
                    continue;
                };
                let Some(bridge_mtu) = &bridge.mtu else {
                    continue;
                };
                check_nic(cluster, vm, nic, &bridge.name.value, bridge_mtu, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TalosNode;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, loc, run};

    struct Case {
        pve: u8,
        bridge: u32,
        nic_mtu: Option<u32>,
        link_mtu: Option<u32>,
        network_known: bool,
    }

    fn findings(case: Case) -> Vec<Finding> {
        let mut vm = good_vm(201, "w-1", 0);
        if let Some(nic) = vm.nics.first_mut() {
            nic.mtu = case.nic_mtu.map(|m| fact(m, 51));
        }
        let mut cluster = cluster_of(vec![vm], case.bridge);
        cluster.versions.proxmox = Some(fact(case.pve, 9000));
        let mut node = TalosNode::new("w-1", loc(600));
        node.link_mtu = case.link_mtu.map(|m| fact(m, 601));
        node.network_known = case.network_known;
        cluster.talos.nodes.push(node);
        run(&MtuMismatch, &cluster)
    }

    fn summary(case: Case) -> Vec<(Severity, crate::source::Location)> {
        findings(case).iter().map(|f| (f.severity, f.at)).collect()
    }

    #[test]
    fn pve8_without_mtu_on_a_jumbo_bridge() {
        let nic_line = good_vm(201, "w-1", 0).nics[0].at;
        let seen = Case {
            pve: 8,
            bridge: 9000,
            nic_mtu: None,
            link_mtu: None,
            network_known: true,
        };
        assert_eq!(summary(seen), [(Severity::Error, nic_line)]);
        let unseen = Case {
            pve: 8,
            bridge: 9000,
            nic_mtu: None,
            link_mtu: None,
            network_known: false,
        };
        assert_eq!(summary(unseen), [(Severity::Warning, nic_line)]);
    }

    #[test]
    fn nic_mtu_above_the_bridge_stops_the_vm() {
        let case = Case {
            pve: 9,
            bridge: 1500,
            nic_mtu: Some(9000),
            link_mtu: None,
            network_known: true,
        };
        assert_eq!(summary(case), [(Severity::Error, fact((), 51).at)]);
    }

    #[test]
    fn talos_link_differing_from_the_bridge_points_at_talos() {
        let case = Case {
            pve: 9,
            bridge: 1500,
            nic_mtu: None,
            link_mtu: Some(9000),
            network_known: true,
        };
        let found = findings(case);
        assert_eq!(
            found.iter().map(|f| f.at).collect::<Vec<_>>(),
            [fact((), 601).at]
        );
        assert_eq!(
            found[0].related.first().map(|r| r.at),
            Some(fact((), 9002).at)
        );
    }

    #[test]
    fn silent_when_everything_agrees() {
        for case in [
            Case {
                pve: 9,
                bridge: 9000,
                nic_mtu: None,
                link_mtu: None,
                network_known: true,
            },
            Case {
                pve: 8,
                bridge: 9000,
                nic_mtu: Some(1),
                link_mtu: None,
                network_known: true,
            },
            Case {
                pve: 8,
                bridge: 9000,
                nic_mtu: None,
                link_mtu: Some(9000),
                network_known: true,
            },
            Case {
                pve: 8,
                bridge: 1500,
                nic_mtu: None,
                link_mtu: None,
                network_known: true,
            },
        ] {
            assert!(findings(case).is_empty());
        }
    }
}
