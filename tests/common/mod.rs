//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the repository: upstream schemas and data that conformance tests read.
///
/// Returns `None` (and prints why) when it is absent, so a user's fresh clone still passes;
/// panics instead when `CI` is set, because CI must run every conformance test.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TALHORN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("upstream").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but {} is missing: conformance tests cannot run",
            dir.display()
        );
    }
    eprintln!(
        "note: {} not found; skipping a test that needs upstream data",
        dir.display()
    );
    None
}

/// The binary under test. `TALHORN_BIN` overrides it: a target directory shared between
/// branches may hold another branch's build at `CARGO_BIN_EXE_talhorn`.
pub fn talhorn_bin() -> PathBuf {
    std::env::var_os("TALHORN_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_talhorn").into(), PathBuf::from)
}

/// Writes `files` (path relative to the repository, text) into a temporary repository and lints
/// it with the default configuration; the folder lives as long as the returned handle.
/// The cluster models of `dir` (a lint checks each and drops it), read as a lint of `dir`
/// reads them.
pub fn models(dir: &std::path::Path) -> Vec<talhorn::ingest::ClusterInput> {
    let config = talhorn::rules::LintConfig {
        root: dir.to_path_buf(),
        ..talhorn::rules::LintConfig::default()
    };
    talhorn::ingest::ingest(&[dir.to_path_buf()], &config)
        .unwrap_or_else(|e| panic!("{e}"))
        .clusters
}

pub fn lint_files(files: &[(&str, &str)]) -> (tempfile::TempDir, talhorn::lint::LintOutcome) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    }
    let config = talhorn::rules::LintConfig {
        root: dir.path().to_path_buf(),
        ..talhorn::rules::LintConfig::default()
    };
    let outcome = talhorn::lint::lint_paths(&[dir.path().to_path_buf()], &config)
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, outcome)
}
