//! Speed of the two pipelines on a large synthetic cluster, outside the test suite (the machine
//! is shared and noisy, so timings never gate tests).
//!
//! Run: `cargo bench --bench pipeline` (prints the median of several runs per step).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use talhorn::rules::LintConfig;

const NODES: usize = 300;
const RUNS: usize = 7;

fn intent(nodes: usize) -> String {
    let mut text = String::from(
        "cluster: { name: bench, endpoint: https://10.0.0.10:6443, talos: v1.11.6 }\n\
         proxmox: { version: 9, node: pve1, storage: { local-lvm: { type: lvmthin } }, bridges: { vmbr0: { mtu: 9000 } } }\n\
         network: { bridge: vmbr0, mtu: 9000, cidr: 10.0.0.0/16, gateway: 10.0.0.1, nameservers: [10.0.0.1] }\n\
         talos: { extensions: [siderolabs/iscsi-tools, siderolabs/util-linux-tools] }\n\
         longhorn: { version: 1.10.2, dataDisk: { size: 200G } }\nnodes:\n",
    );
    for i in 0..nodes {
        let role = if i < 3 { "controlplane" } else { "worker" };
        let _ = writeln!(
            text,
            "  - {{ name: n-{i}, role: {role}, vmid: {}, ip: 10.0.{}.{} }}",
            1000 + i,
            1 + i / 200,
            10 + i % 200
        );
    }
    text
}

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
    std::fs::write(&intent_path, intent(NODES)).expect("write intent");
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
