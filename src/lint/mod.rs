//! `talhorn lint`: ingest → clusters → rules, each cluster checked as soon as it is folded.
//! A folder's lint may read it in pieces ([`apart`]), so that it never holds a record of
//! every file.

pub mod apart;

use crate::finding::Finding;
use crate::ingest::{self, FileEntry, IngestError};
use crate::rules::config::NearestConfigs;
use crate::rules::suppress::{self, Suppressions};
use crate::rules::{self, LintConfig};
use crate::source::{FileId, Listings, SourceFile, SourceMap};
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct LintOutcome {
    /// Every file read; the texts of those that findings point into, or that hold suppression
    /// comments (findings and related locations point into them).
    pub sources: SourceMap,
    /// The clusters, in name order.
    pub clusters: Vec<LintedCluster>,
    /// Every file considered, with its kind and clusters (`--show-files`; empty unless the
    /// run was asked to list them).
    pub files: Vec<FileEntry>,
    /// Whether any file held something talhorn checks ("All checks passed" means nothing
    /// otherwise).
    pub recognised_any: bool,
    /// Findings of every cluster, each naming its cluster, sorted by place and code.
    pub findings: Vec<Finding>,
    /// Special files (FIFOs, devices, sockets) found in a tree and not read, with what they are.
    pub skipped: Vec<(std::path::PathBuf, String)>,
    /// See [`ingest::Ingested::self_contained`].
    pub self_contained: bool,
    /// Whether some files are under no cluster root (the repository's own cluster).
    pub unrooted_files: bool,
}

/// A cluster as a lint leaves it: its model is checked on the worker that folded it and not
/// kept (use [`crate::ingest::ingest`] for the models).
#[derive(Debug)]
pub struct LintedCluster {
    pub name: String,
    pub root: PathBuf,
}

/// Lints files and directories with a configuration (the outcome lists the files considered).
pub fn lint_paths(paths: &[PathBuf], config: &LintConfig) -> Result<LintOutcome, IngestError> {
    lint_paths_with_stdin(paths, None, config, true)
}

/// One cluster, checked: what finishing it needs once every cluster is checked.
struct Checked {
    name: String,
    root: PathBuf,
    /// Its configuration when it is not the run's.
    config: Option<LintConfig>,
    findings: Vec<Finding>,
    /// The intent files of its VMs ([`rules::finish_cluster`] merges findings there).
    intent_files: HashSet<FileId>,
    /// Texts read for it that the report or the suppressions need.
    texts: Vec<(FileId, Arc<SourceFile>)>,
    /// Its files that hold suppression comments (it reports those that cover nothing).
    commented: HashSet<FileId>,
}

/// [`lint_paths`], plus standard input as the file `stdin` names (`talhorn lint -`). The
/// files considered are listed only with `list_files` (`--show-files`): a report does not
/// need the list, and a large run would hold a record per file for it.
pub fn lint_paths_with_stdin(
    paths: &[PathBuf],
    stdin: Option<&Path>,
    config: &LintConfig,
    list_files: bool,
) -> Result<LintOutcome, IngestError> {
    let discovered = ingest::discover(paths, config)?;
    lint_discovered(discovered, stdin, config, list_files)
}

/// [`lint_paths_with_stdin`] of the files a walk found.
pub fn lint_discovered(
    discovered: ingest::Discovered,
    stdin: Option<&Path>,
    config: &LintConfig,
    list_files: bool,
) -> Result<LintOutcome, IngestError> {
    // Each file's nearest `.talhorn.yaml`, found once for the run (its clusters share its files)
    // while the files are grouped, when configuration is found per file (a cluster's own
    // `.talhorn.yaml` is only read then, so no other configuration asks for them).
    let find_nearest = |sources: &SourceMap, listings: &Listings| {
        if config.per_file {
            NearestConfigs::find(sources, listings)
        } else {
            NearestConfigs::default()
        }
    };
    // Each cluster is checked on the worker that folded it, and its model dropped there.
    let check = |input: ingest::ClusterInput, nearest: &NearestConfigs| {
        let resolved = input
            .config
            .as_ref()
            .unwrap_or(config)
            .resolve(|| nearest)
            .map_err(|e| IngestError(e.to_string()))?;
        let findings = rules::check_cluster(&input.cluster, &resolved);
        let resolved = match resolved {
            Cow::Owned(resolved) => Some(resolved),
            Cow::Borrowed(_) => None,
        };
        let sources = &input.cluster.sources;
        let commented: HashSet<FileId> = input
            .files
            .iter()
            .copied()
            .filter(|&id| suppress::has_comments(sources.get(id)))
            .collect();
        let checked = Checked {
            texts: texts_to_keep(sources, &findings, &commented),
            commented,
            intent_files: rules::intent_files(&input.cluster),
            name: input.name,
            root: input.root,
            config: resolved.or(input.config),
            findings,
        };
        // The model is freed on whichever worker is idle: a large cluster's takes milliseconds
        // to free, and nothing waits for it.
        rayon::spawn(move || drop(input.cluster));
        Ok(checked)
    };
    let ingested =
        ingest::ingest_discovered_each(discovered, stdin, config, list_files, find_nearest, check)?;
    let mut sources = ingested.sources;
    sources.keep_texts(
        ingested
            .clusters
            .iter()
            .flat_map(|checked| checked.texts.iter().cloned()),
    );
    // Every text with a suppression comment is among them ([`texts_to_keep`]).
    let suppressions = Suppressions::find(&sources);
    // A comment that suppresses a finding of one cluster is used, whichever cluster asks.
    let used = suppressions.used_by(
        ingested
            .clusters
            .iter()
            .flat_map(|checked| &checked.findings),
        &sources,
    );
    let mut findings = Vec::new();
    let mut clusters = Vec::with_capacity(ingested.clusters.len());
    for checked in ingested.clusters {
        let kept = rules::finish_cluster(
            checked.findings,
            &sources,
            &checked.intent_files,
            checked.config.as_ref().unwrap_or(config),
            &suppressions,
            &used,
            &|file| checked.commented.contains(&file),
        );
        for mut finding in kept {
            finding.cluster = Some(checked.name.clone());
            findings.push(finding);
        }
        clusters.push(LintedCluster {
            name: checked.name,
            root: checked.root,
        });
    }
    // A file shared by several clusters is checked in each; its own problems are one finding.
    findings.sort_by(|a, b| {
        (a.at, a.code, &a.message, &a.cluster).cmp(&(b.at, b.code, &b.message, &b.cluster))
    });
    findings.dedup_by(|b, a| a.at == b.at && a.code == b.code && a.message == b.message);
    Ok(LintOutcome {
        sources,
        clusters,
        files: ingested.files,
        recognised_any: ingested.recognised_any,
        findings,
        skipped: ingested.skipped,
        self_contained: ingested.self_contained,
        unrooted_files: ingested.unrooted_files,
    })
}

/// The texts read for a cluster that the run keeps: those its findings point into, and those
/// with a suppression comment (`commented`: a comment that matched nothing is reported where
/// it is).
fn texts_to_keep(
    sources: &SourceMap,
    findings: &[Finding],
    commented: &HashSet<FileId>,
) -> Vec<(FileId, Arc<SourceFile>)> {
    let pointed: HashSet<FileId> = findings
        .iter()
        .flat_map(|f| std::iter::once(f.at.file).chain(f.related.iter().map(|r| r.at.file)))
        .collect();
    sources
        .own_texts()
        .iter()
        .filter(|(id, _)| pointed.contains(id) || commented.contains(id))
        .cloned()
        .collect()
}
