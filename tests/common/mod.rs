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
