//! talhorn: an offline compiler and linter for Kubernetes on Talos Linux VMs on Proxmox VE with
//! Longhorn storage.
//!
//! The pipeline: load → model → rules → report, and model → emit → write.

pub mod cli;
pub mod emit;
pub mod fast_hash;
pub mod finding;
pub mod ingest;
pub mod intent;
pub mod knowledge;
pub mod lint;
pub mod load;
pub mod lower;
pub mod model;
pub mod report;
pub mod rules;
pub mod source;
pub mod write;
pub mod yaml;

/// The benchmark's synthetic trees, for the unit tests that need a large repository.
#[cfg(test)]
#[path = "../tools/synthetic_tree.rs"]
mod synthetic_tree;
