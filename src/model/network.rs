//! Network facts that cross layers: the subnet, the CNI and its MTU.

use crate::source::Fact;
use std::net::Ipv4Addr;

#[derive(Debug, Clone)]
pub struct Cni {
    /// `flannel`, `cilium`, `calico`, `none`.
    pub name: Fact<String>,
    pub mtu: Option<Fact<u32>>,
    /// `vxlan`, `geneve`, `native`.
    pub encapsulation: Option<Fact<String>>,
}

impl Cni {
    /// Bytes the encapsulation adds to each packet.
    pub fn overhead(&self) -> Option<u32> {
        match self.encapsulation.as_ref()?.value.as_str() {
            "vxlan" | "geneve" => Some(50),
            "native" => Some(0),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Network {
    pub cidr: Option<Fact<(Ipv4Addr, u8)>>,
    pub gateway: Option<Fact<Ipv4Addr>>,
    pub speed_gbps: Option<Fact<f64>>,
    pub cni: Option<Cni>,
    /// The Kubernetes API endpoint (`https://HOST:PORT`) as written.
    pub endpoint: Option<Fact<String>>,
}
