//! Version-specific facts about the stack, as data tables.
pub mod longhorn;
pub mod proxmox;
pub mod pve_versions;
pub mod talos;
pub mod talos_schema;
