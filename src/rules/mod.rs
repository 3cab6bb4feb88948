//! The rule engine: every rule is one file with its code, its documentation and its check.
//!
//! `talhorn explain`, `talhorn rules`, SARIF `rules[]` and `docs/rules.md` are all generated
//! from [`registry`]. To add a rule: write `src/rules/<layer>/<code>_<name>.rs` after an existing
//! one, add it to its layer's `RULES`, and give it a firing and a silent test.

pub mod config;
pub mod dialect_help;
pub mod docs;
pub mod intent_help;
pub mod longhorn;
pub mod network;
pub mod proxmox;
pub mod structure;
pub mod suppress;
pub mod talos;

use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::source::{FileId, Location, SourceMap};
use std::collections::HashSet;

pub use config::LintConfig;

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
    /// The default severity; a finding may be lower when its evidence is weaker, never higher.
    pub severity: Severity,
    /// One line: what it checks.
    pub summary: &'static str,
    /// Markdown with the sections `## What`, `## Why`, `## Example`, `## Fix`, `## Source`.
    pub docs: &'static str,
}

impl RuleMeta {
    /// A finding of this rule at its default severity.
    pub fn finding(&'static self, at: Location, message: impl Into<String>) -> Finding {
        Finding::new(self.code, self.severity, at, message)
    }

    /// A finding of this rule at a given severity (never above the default).
    pub fn finding_at(
        &'static self,
        severity: Severity,
        at: Location,
        message: impl Into<String>,
    ) -> Finding {
        Finding::new(self.code, severity.min(self.severity), at, message)
    }
}

/// A check over the cluster model.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>);
}

/// Every rule, in code order.
pub fn registry() -> Vec<&'static dyn Rule> {
    let mut rules: Vec<&'static dyn Rule> = structure::RULES
        .iter()
        .chain(proxmox::RULES)
        .chain(talos::RULES)
        .chain(longhorn::RULES)
        .chain(network::RULES)
        .copied()
        .collect();
    rules.sort_by_key(|r| r.meta().code);
    rules
}

/// Metadata of every rule, in code order.
pub fn all_meta() -> Vec<&'static RuleMeta> {
    registry().into_iter().map(|r| r.meta()).collect()
}

pub fn meta(code: &str) -> Option<&'static RuleMeta> {
    registry()
        .into_iter()
        .map(|r| r.meta())
        .find(|m| m.code.eq_ignore_ascii_case(code))
}

/// Runs the selected rules, applies severity overrides and suppressions, and sorts the result.
pub fn run(cluster: &Cluster, config: &LintConfig) -> Vec<Finding> {
    let suppressions = suppress::Suppressions::find(&cluster.sources);
    let findings = check_cluster(cluster, config);
    let used = suppressions.used_by(&findings, &cluster.sources);
    finish_cluster(
        findings,
        &cluster.sources,
        &intent_files(cluster),
        config,
        &suppressions,
        &used,
        &|_| true,
    )
}

/// The findings of one cluster of a run of many, before suppression comments: with severity
/// overrides and fix hints in the terms of each file.
///
/// Rules only read the model, so they run in parallel on the worker threads; their findings
/// are joined in registry order, whatever the thread timing.
pub fn check_cluster(cluster: &Cluster, config: &LintConfig) -> Vec<Finding> {
    use rayon::prelude::*;
    let enabled: Vec<&dyn Rule> = registry()
        .into_iter()
        .filter(|rule| config.enabled_anywhere(rule.meta().code))
        .collect();
    let per_rule: Vec<Vec<Finding>> = crate::yaml::on_workers(|| {
        enabled
            .par_iter()
            .map(|rule| {
                let mut out = Vec::new();
                rule.check(cluster, &mut out);
                out.retain(|f| {
                    let config = config.for_file(cluster.sources.path(f.at.file));
                    config.enabled(f.code) && !config.ignored_at(f.code, &cluster.sources, f.at)
                });
                out
            })
            .collect()
    });
    let mut findings: Vec<Finding> = per_rule.into_iter().flatten().collect();
    for finding in &mut findings {
        let config = config.for_file(cluster.sources.path(finding.at.file));
        if let Some(severity) = config.severity_override(finding.code) {
            finding.severity = severity;
        }
    }
    intent_help::apply(&mut findings, cluster);
    dialect_help::apply(&mut findings, cluster);
    findings
}

/// [`check_cluster`]'s findings without those a suppression comment covers, plus INT004 for
/// the comments that cover nothing in the whole run (`used`, [`suppress::Suppressions::used_by`]
/// over every cluster's findings) in the files it `holds`, sorted. `sources` holds the texts of
/// the files findings and suppressions point into; `intent_files` are the cluster's
/// ([`intent_files`]).
pub fn finish_cluster(
    findings: Vec<Finding>,
    sources: &SourceMap,
    intent_files: &HashSet<FileId>,
    config: &LintConfig,
    suppressions: &suppress::Suppressions,
    used: &[bool],
    holds: &dyn Fn(FileId) -> bool,
) -> Vec<Finding> {
    let mut findings = suppress::apply(findings, sources, config, suppressions, used, holds);
    findings.sort_by(|a, b| (a.at, a.code).cmp(&(b.at, b.code)));
    merge_same_intent_setting(findings, intent_files)
}

/// The intent files a cluster's VMs come from (what [`finish_cluster`] needs of its model).
pub fn intent_files(cluster: &Cluster) -> HashSet<FileId> {
    cluster
        .vms
        .iter()
        .filter(|vm| vm.file.is_none())
        .map(|vm| vm.origin.file)
        .collect()
}

/// One intent setting (a role default, `network.mtu`) applies to many VMs, so a rule can report
/// the same problem once per VM at that one place: report it once, saying how many more it
/// covers. Findings in other files are distinct problems and stay apart.
fn merge_same_intent_setting(
    findings: Vec<Finding>,
    intent_files: &HashSet<FileId>,
) -> Vec<Finding> {
    let mut merged: Vec<(Finding, usize)> = Vec::with_capacity(findings.len());
    for finding in findings {
        match merged.last_mut() {
            Some((last, more))
                if intent_files.contains(&finding.at.file)
                    && last.code == finding.code
                    && last.at == finding.at
                    && last.severity == finding.severity =>
            {
                if last.message != finding.message {
                    *more += 1;
                }
            }
            _ => merged.push((finding, 0)),
        }
    }
    merged
        .into_iter()
        .map(|(mut finding, more)| {
            if more > 0 {
                finding
                    .message
                    .push_str(&format!(" (and {more} more from the same setting)"));
            }
            finding
        })
        .collect()
}
