//! `talhorn lint`: ingest → clusters → rules, one cluster at a time.

use crate::finding::Finding;
use crate::ingest::{self, ClusterInput, FileEntry, IngestError};
use crate::rules::config::NearestConfigs;
use crate::rules::suppress::Suppressions;
use crate::rules::{self, LintConfig};
use crate::source::SourceMap;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub struct LintOutcome {
    /// Every file read (findings and related locations point into it).
    pub sources: SourceMap,
    /// One model per cluster, in name order.
    pub clusters: Vec<ClusterInput>,
    /// Every file considered, with its kind and clusters (`--show-files`).
    pub files: Vec<FileEntry>,
    /// Findings of every cluster, each naming its cluster, sorted by place and code.
    pub findings: Vec<Finding>,
    /// Special files (FIFOs, devices, sockets) found in a tree and not read, with what they are.
    pub skipped: Vec<(std::path::PathBuf, String)>,
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
    lint_paths_with_stdin(paths, None, config)
}

/// [`lint_paths`], plus standard input as the file `stdin` names (`talhorn lint -`).
pub fn lint_paths_with_stdin(
    paths: &[PathBuf],
    stdin: Option<&Path>,
    config: &LintConfig,
) -> Result<LintOutcome, IngestError> {
    let ingested = ingest::ingest_with_stdin(paths, stdin, config)?;
    // Every cluster's source map is the run's (shared), so the nearest `.talhorn.yaml` of each
    // file is found once, when a configuration first needs it.
    let nearest = std::sync::OnceLock::new();
    let find_nearest = || nearest.get_or_init(|| NearestConfigs::find(&ingested.sources));
    // So are the suppression comments in them.
    let suppressions = Suppressions::find(&ingested.sources);
    // Clusters are independent: each is checked on a worker, and they come back in order.
    let checked = crate::yaml::on_workers(|| {
        ingested
            .clusters
            .par_iter()
            .map(|input| {
                // The cluster's configuration, and each file's nearest `.talhorn.yaml` in it.
                let config = input
                    .config
                    .as_ref()
                    .unwrap_or(config)
                    .resolve(find_nearest)
                    .map_err(|e| IngestError(e.to_string()))?;
                let findings = rules::check_cluster(&input.cluster, &config);
                Ok((input, config, findings))
            })
            .collect::<Vec<Result<_, IngestError>>>()
    })
    .into_iter()
    // The first error in cluster order, whichever worker met it first.
    .collect::<Result<Vec<_>, _>>()?;
    // A comment that suppresses a finding of one cluster is used, whichever cluster asks.
    let used = suppressions.used_by(
        checked.iter().flat_map(|(_, _, findings)| findings),
        &ingested.sources,
    );
    let mut findings = Vec::new();
    for (input, config, cluster_findings) in checked {
        let kept = rules::finish_cluster(
            cluster_findings,
            &input.cluster,
            &config,
            &suppressions,
            &used,
        );
        for mut finding in kept {
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
        skipped: ingested.skipped,
    })
}
