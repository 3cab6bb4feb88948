//! `talhorn lint`: ingest → model → rules.

use crate::finding::Finding;
use crate::ingest::{self, IngestError};
use crate::model::Cluster;
use crate::rules::{self, LintConfig};
use std::path::{Path, PathBuf};

pub struct LintOutcome {
    pub cluster: Cluster,
    pub findings: Vec<Finding>,
}

/// Lints files and directories with a configuration.
pub fn lint_paths(paths: &[PathBuf], config: &LintConfig) -> Result<LintOutcome, IngestError> {
    lint_paths_with_stdin(paths, None, config)
}

/// [`lint_paths`], plus standard input as the file `stdin` names (`talhorn lint -`).
pub fn lint_paths_with_stdin(
    paths: &[PathBuf],
    stdin: Option<&Path>,
    config: &LintConfig,
) -> Result<LintOutcome, IngestError> {
    let cluster = ingest::ingest_with_stdin(paths, stdin, config)?;
    let config = config
        .resolve(&cluster.sources)
        .map_err(|e| IngestError(e.to_string()))?;
    let findings = rules::run(&cluster, &config);
    Ok(LintOutcome { cluster, findings })
}
