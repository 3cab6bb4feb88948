//! The MTU a Talos guest ends up with on a VM NIC, per Proxmox 8 and 9 semantics.

use crate::knowledge::pve_versions;
use crate::model::{Bridge, Cluster, Nic, Vm};
use crate::source::{Fact, Location};

/// Linux's default MTU for an Ethernet device whose hypervisor advertises none.
pub const ETHERNET_DEFAULT_MTU: u32 = 1500;

/// Where a guest's MTU comes from, which decides where a finding about it points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtuSource {
    /// The Talos link config sets it.
    TalosLink,
    /// The NIC's `mtu=N` (N > 1).
    NicSetting,
    /// `mtu=1`, or no `mtu` on PVE 9: the bridge's MTU.
    Bridge,
    /// No `mtu` on PVE 8: QEMU advertises none and the guest uses 1500.
    Pve8Default,
    /// A non-VirtIO NIC: Proxmox ignores `mtu`, the guest uses 1500.
    NonVirtio,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestMtu {
    pub value: u32,
    pub at: Location,
    pub source: MtuSource,
}

/// The bridge a NIC is attached to, when the host declares it.
pub fn bridge_of<'a>(cluster: &'a Cluster, nic: &Nic) -> Option<&'a Bridge> {
    cluster.host.bridge(&nic.bridge.as_ref()?.value)
}

/// The VM's primary NIC (lowest `netN`): the link the Talos node config describes.
pub fn primary_nic(vm: &Vm) -> Option<&Nic> {
    if vm.any_unknown(&["nics", "nic.mtu", "nic.bridge"]) {
        return None;
    }
    vm.nics.iter().min_by_key(|nic| {
        nic.slot
            .trim_start_matches("net")
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    })
}

/// The guest's MTU on `nic`, when it can be known.
///
/// The Talos link MTU wins when set (it only applies to the primary NIC). Otherwise the NIC
/// decides: `mtu=N`, `mtu=1` (the bridge's MTU), unset on PVE 9 (the bridge's), unset on PVE 8
/// (1500); a non-VirtIO NIC ignores `mtu` (1500).
pub fn guest_mtu(cluster: &Cluster, vm: &Vm, nic: &Nic) -> Option<GuestMtu> {
    let is_primary = primary_nic(vm).is_some_and(|p| p.slot == nic.slot);
    let link_mtu = is_primary
        .then(|| {
            cluster
                .talos_node_of(vm)
                .and_then(|node| node.link_mtu.as_ref())
        })
        .flatten();
    if let Some(link) = link_mtu {
        return Some(GuestMtu {
            value: link.value,
            at: link.at,
            source: MtuSource::TalosLink,
        });
    }
    if nic.model.value != "virtio" {
        return Some(GuestMtu {
            value: ETHERNET_DEFAULT_MTU,
            at: nic.model.at,
            source: MtuSource::NonVirtio,
        });
    }
    let bridge_mtu = || {
        bridge_of(cluster, nic)
            .and_then(|b| b.mtu.as_ref())
            .map(|m| m.value)
    };
    match &nic.mtu {
        Some(Fact { value: 1, at }) => Some(GuestMtu {
            value: bridge_mtu()?,
            at: *at,
            source: MtuSource::Bridge,
        }),
        Some(mtu) => Some(GuestMtu {
            value: mtu.value,
            at: mtu.at,
            source: MtuSource::NicSetting,
        }),
        None => {
            let major = cluster.versions.proxmox.as_ref()?.value;
            if pve_versions::version(major)?.virtio_inherits_bridge_mtu {
                Some(GuestMtu {
                    value: bridge_mtu()?,
                    at: nic.at,
                    source: MtuSource::Bridge,
                })
            } else {
                Some(GuestMtu {
                    value: ETHERNET_DEFAULT_MTU,
                    at: nic.at,
                    source: MtuSource::Pve8Default,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TalosNode;
    use crate::rules::proxmox::testing::{cluster_of, fact, good_vm, loc};

    fn mtu_with(
        pve: u8,
        model: &str,
        nic_mtu: Option<u32>,
        link_mtu: Option<u32>,
    ) -> Option<(u32, MtuSource)> {
        let mut vm = good_vm(201, "w-1", 0);
        if let Some(nic) = vm.nics.first_mut() {
            nic.model = fact(model.to_string(), 50);
            nic.mtu = nic_mtu.map(|m| fact(m, 51));
        }
        let mut cluster = cluster_of(vec![vm.clone()], 9000);
        cluster.versions.proxmox = Some(fact(pve, 9000));
        let mut node = TalosNode::new("w-1", loc(600));
        node.link_mtu = link_mtu.map(|m| fact(m, 601));
        cluster.talos.nodes.push(node);
        let nic = vm.nics.first()?;
        guest_mtu(&cluster, &vm, nic).map(|g| (g.value, g.source))
    }

    #[test]
    fn pve9_inherits_the_bridge_and_pve8_defaults_to_1500() {
        assert_eq!(
            mtu_with(9, "virtio", None, None),
            Some((9000, MtuSource::Bridge))
        );
        assert_eq!(
            mtu_with(8, "virtio", None, None),
            Some((1500, MtuSource::Pve8Default))
        );
        assert_eq!(
            mtu_with(8, "virtio", Some(1), None),
            Some((9000, MtuSource::Bridge))
        );
        assert_eq!(
            mtu_with(8, "virtio", Some(8000), None),
            Some((8000, MtuSource::NicSetting))
        );
    }

    #[test]
    fn the_talos_link_wins_and_non_virtio_ignores_mtu() {
        assert_eq!(
            mtu_with(8, "virtio", None, Some(9000)),
            Some((9000, MtuSource::TalosLink))
        );
        assert_eq!(
            mtu_with(9, "e1000", Some(1), None),
            Some((1500, MtuSource::NonVirtio))
        );
    }
}
