//! A GitOps repository holds the intent and the files built from it: linting it reads the
//! intent, not the generated copies (which would report every VM twice).

use std::path::PathBuf;
use talhorn::rules::LintConfig;

#[test]
fn generated_files_beside_their_intent_are_not_linted_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let intent = dir.path().join("cluster.yaml");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/homelab.yaml"),
        &intent,
    )
    .expect("copy");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_talhorn"))
        .args(["build"])
        .arg(&intent)
        .arg("-o")
        .arg(dir.path().join("out"))
        .status()
        .expect("run talhorn");
    assert!(status.success());

    let config = LintConfig {
        root: dir.path().to_path_buf(),
        ..LintConfig::default()
    };
    // The models a lint reads (it checks each and drops it).
    let vms = || {
        talhorn::ingest::ingest(&[dir.path().to_path_buf()], &config)
            .expect("read")
            .clusters[0]
            .cluster
            .vms
            .len()
    };
    let with_intent =
        talhorn::lint::lint_paths(&[dir.path().to_path_buf()], &config).expect("lint");
    assert_eq!(vms(), 6, "each VM once, from the intent");
    assert!(with_intent.findings.iter().all(|f| f.code != "PVE019"));

    // Without the intent, the generated files are what there is to lint.
    std::fs::remove_file(&intent).expect("remove intent");
    let alone = talhorn::lint::lint_paths(&[dir.path().to_path_buf()], &config).expect("lint");
    assert_eq!(alone.clusters.len(), 1);
    assert_eq!(vms(), 6, "each VM once, from the qm.conf files");
}
