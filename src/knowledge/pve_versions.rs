//! What differs between Proxmox VE majors, as a table.

/// Behaviour of one Proxmox VE major version.
#[derive(Debug)]
pub struct PveVersion {
    pub major: u8,
    /// Whether a virtio NIC without `mtu=` runs at the bridge MTU (PVE 9) or at 1500 (PVE 8,
    /// unless `mtu=1`). qemu-server `print_netdevice_full`.
    pub virtio_inherits_bridge_mtu: bool,
}

pub const VERSIONS: &[PveVersion] = &[
    PveVersion {
        major: 8,
        virtio_inherits_bridge_mtu: false,
    },
    PveVersion {
        major: 9,
        virtio_inherits_bridge_mtu: true,
    },
];

pub fn version(major: u8) -> Option<&'static PveVersion> {
    VERSIONS.iter().find(|v| v.major == major)
}

/// Whether a virtio NIC without `mtu=` gets the bridge MTU on this PVE major (unknown: no).
pub fn virtio_inherits_bridge_mtu(major: u8) -> bool {
    version(major).is_some_and(|v| v.virtio_inherits_bridge_mtu)
}
