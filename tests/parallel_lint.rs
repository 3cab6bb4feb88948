//! Lint reads and parses files on several threads: its output must not depend on how many, or
//! on which thread finishes first. The benchmark's synthetic trees (many clusters, and the same
//! files as one cluster, whose files are shared out inside it), linted with one worker and with
//! many, must give byte-identical reports.

#[path = "../tools/synthetic_tree.rs"]
mod synthetic_tree;

use std::path::{Path, PathBuf};

/// More files than one load chunk, so chunking is exercised too.
const FILES: usize = 1_200;

fn lint(dir: &Path, threads: &str, format: &str) -> (Option<i32>, Vec<u8>) {
    lint_args(dir, threads, &["--format", format])
}

fn lint_args(dir: &Path, threads: &str, args: &[&str]) -> (Option<i32>, Vec<u8>) {
    let bin = std::env::var_os("TALHORN_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_talhorn").into(), PathBuf::from);
    let output = std::process::Command::new(bin)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", threads)
        .args(["lint", "."])
        .args(args)
        .output()
        .expect("run talhorn");
    (output.status.code(), output.stdout)
}

#[test]
fn parallel_lint_output_is_identical_to_a_single_threaded_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    synthetic_tree::write_tree(dir.path(), FILES).expect("write tree");
    assert_parallel_output_is_single_threaded_output(dir.path());
}

#[test]
fn parallel_lint_of_one_cluster_is_identical_to_a_single_threaded_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    synthetic_tree::write_one_cluster(dir.path(), FILES).expect("write tree");
    let (_, files) = lint_args(dir.path(), "1", &["--show-files"]);
    let files = String::from_utf8(files).expect("UTF-8 file list");
    let clusters: std::collections::BTreeSet<&str> = files
        .lines()
        .filter_map(|line| line.rsplit('\t').next())
        .collect();
    assert_eq!(clusters.len(), 1, "one cluster: {clusters:?}");
    assert_parallel_output_is_single_threaded_output(dir.path());
}

fn assert_parallel_output_is_single_threaded_output(dir: &Path) {
    for format in ["json", "human"] {
        let (single_code, single) = lint(dir, "1", format);
        assert_eq!(single_code, Some(1), "the tree has findings");
        for threads in ["2", "8"] {
            let (code, parallel) = lint(dir, threads, format);
            assert_eq!(code, single_code);
            assert!(
                parallel == single,
                "{format} output with {threads} threads differs from one thread"
            );
        }
    }
    let (_, json) = lint(dir, "8", "json");
    let report: serde_json::Value = serde_json::from_slice(&json).expect("JSON report");
    let text = report.to_string();
    for code in ["PVE", "TAL", "LHN"] {
        assert!(
            text.contains(&format!("\"{code}")),
            "the synthetic tree should give {code} findings: {text:.2000}"
        );
    }
}

#[test]
fn the_synthetic_tree_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    synthetic_tree::write_tree(a.path(), 250).unwrap();
    synthetic_tree::write_tree(b.path(), 250).unwrap();
    let files = |root: &Path| {
        let mut files: Vec<(PathBuf, Vec<u8>)> = walk(root)
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let written = files(a.path());
    assert_eq!(written.len(), 250);
    assert_eq!(written, files(b.path()));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}
