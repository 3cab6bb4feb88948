//! Speed of the two pipelines on a large synthetic cluster, outside the test suite (the machine
//! is shared and noisy, so timings never gate tests).
//!
//! Run: `cargo bench --bench pipeline` (prints the median of several runs per step).

#[path = "../tools/synthetic_tree.rs"]
mod synthetic_tree;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use talhorn::rules::LintConfig;

const NODES: usize = 300;
const RUNS: usize = 7;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(label: &str, mut f: impl FnMut()) {
    let samples = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    println!("{label:<40} {:>10.2?}", median(samples));
}

fn main() {
    let dir = std::env::temp_dir().join(format!("talhorn-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let intent_path = dir.join("cluster.yaml");
    std::fs::write(&intent_path, synthetic_tree::intent(NODES)).expect("write intent");
    let out = dir.join("out");
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_talhorn"));
    let run = |args: &[&str]| {
        let status = std::process::Command::new(&exe)
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run talhorn");
        assert!(
            status.code().is_some_and(|c| c <= 1),
            "talhorn failed: {status}"
        );
    };
    let intent_arg = intent_path.to_string_lossy().into_owned();
    let out_arg = out.to_string_lossy().into_owned();
    println!("{NODES} nodes, median of {RUNS} runs");
    time("build (first write, then unchanged)", || {
        run(&["build", &intent_arg, "-o", &out_arg])
    });
    time("build --check", || {
        run(&["build", &intent_arg, "-o", &out_arg, "--check"])
    });
    let config = LintConfig {
        root: out.clone(),
        ..LintConfig::default()
    };
    time("lint generated tree (in process)", || {
        let outcome = talhorn::lint::lint_paths(std::slice::from_ref(&out), &config).expect("lint");
        std::hint::black_box(outcome.findings.len());
    });
    let _ = std::fs::remove_dir_all(&dir);
}
