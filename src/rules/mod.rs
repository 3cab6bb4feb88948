//! The rule engine: every rule is one file with its code, its documentation and its check.
//!
//! `talhorn explain`, `talhorn rules`, SARIF `rules[]` and `docs/rules.md` are all generated
//! from [`REGISTRY`].

use crate::finding::{Finding, Severity};
use crate::model::Cluster;

/// Which layer of the stack a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Structure,
    Proxmox,
    Talos,
    Longhorn,
    Network,
}

impl Layer {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Structure => "structure",
            Self::Proxmox => "proxmox",
            Self::Talos => "talos",
            Self::Longhorn => "longhorn",
            Self::Network => "network",
        }
    }
}

/// What a rule is, written once beside its code.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, never reused: `PVE001`.
    pub code: &'static str,
    /// Kebab-case name: `cpu-lacks-x86-64-v2`.
    pub name: &'static str,
    pub layer: Layer,
    pub severity: Severity,
    /// One line: what it checks.
    pub summary: &'static str,
    /// Markdown with the sections `## What`, `## Why`, `## Example`, `## Fix`, `## Source`.
    pub docs: &'static str,
}

/// A check over the cluster model.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>);
}
