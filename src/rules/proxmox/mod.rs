//! Proxmox rules: VM settings that break or slow Talos and Longhorn.
use super::Rule;

pub mod pve001_cpu_lacks_x86_64_v2;
pub mod pve002_memory_hotplug;
pub mod pve003_qcow2_on_zfs;
pub mod pve004_balloon_enabled;
pub mod pve005_memory_below_minimum;
pub mod pve006_cores_below_minimum;
pub mod pve007_scsi_controller;
pub mod pve008_iothread;
pub mod pve009_discard_off;
pub mod pve010_qcow2_data_disk;
pub mod pve011_numa_off;
pub mod pve012_guest_agent_mismatch;
pub mod pve013_boot_order;
pub mod pve014_ovmf_without_efidisk;
pub mod pve015_no_data_disk;
pub mod pve016_format_unsupported;
pub mod pve017_inline_comment;
pub mod pve018_duplicate_key;
pub mod pve019_duplicate_vm;
pub(crate) mod vm_facts;

#[cfg(test)]
pub(crate) mod testing;

pub static RULES: &[&dyn Rule] = &[
    &pve001_cpu_lacks_x86_64_v2::CpuLacksX8664V2,
    &pve002_memory_hotplug::MemoryHotplug,
    &pve003_qcow2_on_zfs::Qcow2OnZfs,
    &pve004_balloon_enabled::BalloonEnabled,
    &pve005_memory_below_minimum::MemoryBelowMinimum,
    &pve006_cores_below_minimum::CoresBelowMinimum,
    &pve007_scsi_controller::ScsiController,
    &pve008_iothread::Iothread,
    &pve009_discard_off::DiscardOff,
    &pve010_qcow2_data_disk::Qcow2DataDisk,
    &pve011_numa_off::NumaOff,
    &pve012_guest_agent_mismatch::GuestAgentMismatch,
    &pve013_boot_order::BootOrder,
    &pve014_ovmf_without_efidisk::OvmfWithoutEfidisk,
    &pve015_no_data_disk::NoDataDisk,
    &pve016_format_unsupported::FormatUnsupported,
    &pve017_inline_comment::InlineComment,
    &pve018_duplicate_key::DuplicateKey,
    &pve019_duplicate_vm::DuplicateVm,
];
