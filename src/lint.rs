//! `talhorn lint`: ingest → clusters → rules, one cluster at a time.

use crate::finding::Finding;
use crate::ingest::{self, ClusterInput, FileEntry, IngestError};
use crate::rules::{self, LintConfig};
use crate::source::SourceMap;
use std::path::PathBuf;

pub struct LintOutcome {
    /// Every file read (findings and related locations point into it).
    pub sources: SourceMap,
    /// One model per cluster, in name order.
    pub clusters: Vec<ClusterInput>,
    /// Every file considered, with its kind and clusters (`--show-files`).
    pub files: Vec<FileEntry>,
    /// Findings of every cluster, each naming its cluster, sorted by place and code.
    pub findings: Vec<Finding>,
}

impl LintOutcome {
    /// Whether any file held something talhorn checks ("All checks passed" means nothing
    /// otherwise).
    pub fn recognised_any(&self) -> bool {
        self.files.iter().any(|f| f.kind.is_checked())
    }
}

/// Lints files and directories with a configuration.
pub fn lint_paths(paths: &[PathBuf], config: &LintConfig) -> Result<LintOutcome, IngestError> {
    let ingested = ingest::ingest(paths, config)?;
    let mut findings = Vec::new();
    for input in &ingested.clusters {
        let config = input.config.as_ref().unwrap_or(config);
        for mut finding in rules::run(&input.cluster, config) {
            finding.cluster = Some(input.name.clone());
            findings.push(finding);
        }
    }
    // A file shared by several clusters is checked in each; its own problems are one finding.
    findings.sort_by(|a, b| {
        (a.at, a.code, &a.message, &a.cluster).cmp(&(b.at, b.code, &b.message, &b.cluster))
    });
    findings.dedup_by(|b, a| a.at == b.at && a.code == b.code && a.message == b.message);
    Ok(LintOutcome {
        sources: ingested.sources,
        clusters: ingested.clusters,
        files: ingested.files,
        findings,
    })
}
