//! Proxmox rules: VM settings that break or slow Talos and Longhorn.
use super::Rule;

pub mod pve001_cpu_lacks_x86_64_v2;

pub static RULES: &[&dyn Rule] = &[&pve001_cpu_lacks_x86_64_v2::CpuLacksX8664V2];
