//! Network rules: MTU, CNI, bandwidth and addressing across Proxmox, Talos and the CNI.
use super::Rule;

pub(crate) mod guest_mtu;
pub mod net001_mtu_mismatch;
pub mod net002_cni_mtu;
pub mod net003_slow_storage_network;
pub mod net004_address_conflict;
pub mod net005_endpoint_unserved;

pub static RULES: &[&dyn Rule] = &[
    &net001_mtu_mismatch::MtuMismatch,
    &net002_cni_mtu::CniMtu,
    &net003_slow_storage_network::SlowStorageNetwork,
    &net004_address_conflict::AddressConflict,
    &net005_endpoint_unserved::EndpointUnserved,
];
