//! Building fixture intents in-process for the build tests: the same load → pin → lower → lint
//! → emit pipeline as `talhorn build`, without a subprocess per fixture.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use talhorn::finding::Severity;
use talhorn::model::Cluster;
use talhorn::rules::LintConfig;
use talhorn::source::SourceFile;
use talhorn::write::{Artifact, Mode, WriteOptions};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every fixture intent (sorted by name) followed by the README example.
pub fn fixture_intents() -> Vec<PathBuf> {
    let dir = repo().join("fixtures/intents");
    let mut intents: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    intents.sort();
    intents.push(repo().join("examples/homelab.yaml"));
    intents
}

/// The fixture's name: its file stem (`homelab` for the example).
pub fn fixture_name(intent: &Path) -> String {
    intent
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Builds an intent in memory; panics (naming the intent) when it does not build cleanly,
/// because every fixture is meant to be a valid, lint-clean intent.
pub fn build(intent: &Path) -> Vec<Artifact> {
    let text =
        std::fs::read_to_string(intent).unwrap_or_else(|e| panic!("{}: {e}", intent.display()));
    try_build(intent, &text).unwrap_or_else(|problem| panic!("{problem}"))
}

/// Builds intent `text` (read from, or standing in for, `intent`) in memory, as `talhorn
/// build` does; `Err` says why it does not build cleanly (load errors, unsupported or
/// newer-than-known versions, lint errors).
pub fn try_build(intent: &Path, text: &str) -> Result<Vec<Artifact>, String> {
    let name = intent.display();
    let mut cluster = Cluster::default();
    let file = cluster
        .sources
        .add(SourceFile::new(intent, text.to_string()));
    let loaded = talhorn::intent::load(file, text)
        .map_err(|errors| format!("{name} does not load: {errors:#?}"))?;
    let (pinned, warnings) = talhorn::lower::pin_versions(&loaded)
        .map_err(|errors| format!("{name} has unsupported versions: {errors:#?}"))?;
    if !warnings.is_empty() {
        return Err(format!("{name}: version warnings {warnings:#?}"));
    }
    talhorn::lower::lower(&loaded, &pinned, &mut cluster);
    let findings = talhorn::rules::run(&cluster, &LintConfig::default());
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(format!("{name} has lint errors: {errors:#?}"));
    }
    let intent_file = intent
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let input = talhorn::emit::EmitInput {
        cluster: &cluster,
        intent: &loaded,
        intent_file: &intent_file,
        talos: &pinned.talos,
        dialect: pinned.dialect,
        chart: pinned.chart.as_ref(),
    };
    talhorn::emit::emit(&input, &[]).map_err(|e| format!("{name} does not emit: {e}"))
}

/// Writes built artifacts into a fresh temporary directory, as `build -o` would.
pub fn write_into_temp_dir(intent: &Path, artifacts: &[Artifact]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let options = WriteOptions {
        mode: Mode::Write,
        ..WriteOptions::default()
    };
    talhorn::write::run(dir.path(), artifacts, &options)
        .unwrap_or_else(|e| panic!("writing {}: {e}", intent.display()));
    dir
}

/// Builds an intent and writes it into a fresh temporary directory, as `build -o` would.
pub fn build_into_temp_dir(intent: &Path) -> tempfile::TempDir {
    write_into_temp_dir(intent, &build(intent))
}

/// Every file under `root` (relative, '/'-separated, sorted), excluding the manifest.
pub fn files_under(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    collect_files(root, root, &mut files);
    files.retain(|f| f != talhorn::write::MANIFEST_NAME);
    files.sort();
    files
}

fn collect_files(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Reads a generated file as text.
pub fn read(root: &Path, relative: &str) -> String {
    let path = root.join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
