//! `talhorn lint`: ingest → model → rules.

use crate::finding::Finding;
use crate::ingest::{self, IngestError};
use crate::model::Cluster;
use crate::rules::{self, LintConfig};
use std::path::PathBuf;

pub struct LintOutcome {
    pub cluster: Cluster,
    pub findings: Vec<Finding>,
}

/// Lints files and directories with a configuration.
pub fn lint_paths(paths: &[PathBuf], config: &LintConfig) -> Result<LintOutcome, IngestError> {
    let cluster = ingest::ingest(paths, config)?;
    let config = config
        .resolve(&cluster.sources)
        .map_err(|e| IngestError(e.to_string()))?;
    let findings = rules::run(&cluster, &config);
    Ok(LintOutcome { cluster, findings })
}
