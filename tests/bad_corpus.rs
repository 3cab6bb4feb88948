//! The malformed-input corpus (`fixtures/bad/`): every file is linted alone (and every intent
//! built) by the real binary, which must give the located codes and exit code of
//! `fixtures/bad/expected.tsv`, never panic (exit 101) and finish within a generous bound.
//! Inputs too large to commit (a file over the size limit, a patch with thousands of documents,
//! megabyte lines) are generated here.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A hang guard, not a benchmark: it catches an input that makes talhorn loop or grow without
/// bound. Wall time on a shared 2-core machine under load varies several-fold (the alias bombs take
/// about 2 s of CPU in a debug build and were seen at 20 s wall), so the bound is far above that;
/// speed is measured by `tools/bench.sh`, never here.
const TIME_BOUND: Duration = Duration::from_secs(90);
const PANIC_EXIT: i32 = 101;

/// The binary under test. `TALHORN_BIN` overrides it: a target directory shared between
/// branches may hold another branch's build at `CARGO_BIN_EXE_talhorn`.
fn talhorn_bin() -> PathBuf {
    std::env::var_os("TALHORN_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_talhorn").into(), PathBuf::from)
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad")
}

/// Runs talhorn in `dir`, asserting it neither panics nor exceeds the time bound.
fn talhorn(dir: &Path, args: &[&str]) -> Output {
    let started = Instant::now();
    let output = Command::new(talhorn_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the talhorn binary runs");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.code(),
        Some(PANIC_EXIT),
        "talhorn {args:?} panicked:\n{stderr}"
    );
    assert!(
        output.status.code().is_some(),
        "talhorn {args:?} was killed by a signal:\n{stderr}"
    );
    assert!(
        elapsed < TIME_BOUND,
        "talhorn {args:?} took {elapsed:?} (bound {TIME_BOUND:?})"
    );
    output
}

struct Finding {
    code: String,
    line: u64,
}

/// Lints one path with only the INT rules and returns (exit code, findings).
fn lint(dir: &Path, path: &str) -> (i32, Vec<Finding>) {
    let output = talhorn(dir, &["lint", "--select", "INT", "--format", "json", path]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "lint {path}: stdout is not a JSON report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let findings = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("lint {path}: report without findings: {report}"))
        .iter()
        .map(|f| Finding {
            code: f["code"].as_str().unwrap_or_default().to_string(),
            line: f["line"].as_u64().unwrap_or(0),
        })
        .collect();
    (output.status.code().unwrap_or(-1), findings)
}

struct Expected {
    path: String,
    codes: BTreeSet<String>,
    line: Option<u64>,
    lint_exit: i32,
    build_exit: Option<i32>,
}

fn optional(field: &str) -> Option<&str> {
    (field != "-").then_some(field)
}

fn expected_table() -> Vec<Expected> {
    let text = std::fs::read_to_string(corpus_dir().join("expected.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1) // the header
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [path, codes, at, lint_exit, build_exit] = fields[..] else {
                panic!("expected.tsv: a row needs 5 tab-separated fields: {line:?}");
            };
            Expected {
                path: path.to_string(),
                codes: optional(codes)
                    .map(|c| c.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
                line: optional(at).map(|l| l.parse().unwrap()),
                lint_exit: lint_exit.parse().unwrap(),
                build_exit: optional(build_exit).map(|b| b.parse().unwrap()),
            }
        })
        .collect()
}

fn corpus_files(dir: &Path, root: &Path, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            corpus_files(&path, root, files);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            if rel != "expected.tsv" {
                files.push(rel.replace('\\', "/"));
            }
        }
    }
}

#[test]
fn the_table_covers_every_corpus_file_and_the_corpus_is_large() {
    let root = corpus_dir();
    let mut files = Vec::new();
    corpus_files(&root, &root, &mut files);
    files.sort();
    let mut listed: Vec<String> = expected_table().into_iter().map(|e| e.path).collect();
    listed.sort();
    assert_eq!(files, listed, "fixtures/bad and expected.tsv disagree");
    assert!(files.len() >= 100, "only {} corpus files", files.len());
}

fn check(row: &Expected, dir: &Path, problems: &mut Vec<String>) {
    let (exit, findings) = lint(dir, &row.path);
    let codes: BTreeSet<String> = findings.iter().map(|f| f.code.clone()).collect();
    if codes != row.codes {
        problems.push(format!(
            "{}: lint codes {codes:?}, expected {:?}",
            row.path, row.codes
        ));
    }
    let earliest = findings.iter().map(|f| f.line).min();
    if earliest != row.line {
        problems.push(format!(
            "{}: earliest finding on line {earliest:?}, expected {:?}",
            row.path, row.line
        ));
    }
    if exit != row.lint_exit {
        problems.push(format!(
            "{}: lint exit {exit}, expected {}",
            row.path, row.lint_exit
        ));
    }
    if let Some(expected) = row.build_exit {
        let out = TempDir::new().unwrap();
        let out_dir = out.path().join("out");
        let output = talhorn(dir, &["build", &row.path, "-o", &out_dir.to_string_lossy()]);
        let exit = output.status.code().unwrap_or(-1);
        if exit != expected {
            problems.push(format!(
                "{}: build exit {exit}, expected {expected}; stderr:\n{}",
                row.path,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if exit != 0 && out_dir.exists() {
            problems.push(format!(
                "{}: build failed but wrote {}",
                row.path,
                out_dir.display()
            ));
        }
    }
}

#[test]
fn every_corpus_file_gives_its_expected_codes_lines_and_exit_codes() {
    let dir = corpus_dir();
    let table = expected_table();
    // Two workers: the machine this runs on may have only two cores.
    let (first, second) = table.split_at(table.len() / 2);
    let problems: Vec<String> = std::thread::scope(|scope| {
        let handles = [first, second].map(|rows| {
            let dir = &dir;
            scope.spawn(move || {
                let mut problems = Vec::new();
                for row in rows {
                    check(row, dir, &mut problems);
                }
                problems
            })
        });
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Lints a generated file at `rel` inside a fresh directory.
fn lint_generated(rel: &str, content: &[u8]) -> (i32, Vec<Finding>) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    lint(dir.path(), rel)
}

fn assert_int001_at(findings: &[Finding], line: u64, what: &str) {
    assert!(
        findings
            .iter()
            .any(|f| f.code == "INT001" && f.line == line),
        "{what}: expected INT001 on line {line}, got {:?}",
        findings
            .iter()
            .map(|f| (&f.code, f.line))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_file_over_the_size_limit_is_reported_not_read() {
    let limit = talhorn::yaml::MAX_YAML_BYTES;
    let mut text = String::from("machine:\n  install:\n    disk: /dev/sda\n");
    let filler = format!("# {}\n", "x".repeat(1022));
    while text.len() <= limit {
        text.push_str(&filler);
    }
    let (exit, findings) = lint_generated("talos/huge.yaml", text.as_bytes());
    assert_eq!(exit, 1);
    assert_int001_at(&findings, 1, "a file over the size limit");

    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("cluster.yaml"), &text).unwrap();
    let output = talhorn(dir.path(), &["build", "cluster.yaml", "-o", "out"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_talos_patch_with_thousands_of_documents_is_reported() {
    let document =
        "apiVersion: v1alpha1\nkind: SysctlConfig\nsysctls:\n  vm.nr_hugepages: \"1024\"\n";
    let count = talhorn::yaml::MAX_DOCUMENTS * 3;
    let text = vec![document; count].join("---\n");
    let (exit, findings) = lint_generated("talos/worker.yaml", text.as_bytes());
    assert_eq!(exit, 1);
    // The budget is breached while the document after the last allowed one is read.
    let first_line_of_next = (talhorn::yaml::MAX_DOCUMENTS * 5 + 1) as u64;
    assert!(
        findings
            .iter()
            .any(|f| f.code == "INT001" && f.line >= first_line_of_next - 5),
        "expected INT001 near line {first_line_of_next}, got {:?}",
        findings
            .iter()
            .map(|f| (&f.code, f.line))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_patch_just_under_the_document_budget_is_read() {
    let document =
        "apiVersion: v1alpha1\nkind: SysctlConfig\nsysctls:\n  vm.nr_hugepages: \"1024\"\n";
    let text = vec![document; talhorn::yaml::MAX_DOCUMENTS - 1].join("---\n");
    let (_, findings) = lint_generated("talos/worker.yaml", text.as_bytes());
    assert!(
        findings.iter().all(|f| f.code != "INT001"),
        "a stream within the budget must parse"
    );
}

#[test]
fn megabyte_lines_in_every_format_do_not_break_anything() {
    let long = "a".repeat(2 * 1024 * 1024);
    let vm = format!("cores: 2\nmemory: 4096\ndescription: {long}\ncpu: host\n");
    let (exit, findings) = lint_generated("qemu-server/101.conf", vm.as_bytes());
    assert_eq!(exit, 0, "a long description is valid in qm.conf");
    assert!(findings.is_empty());

    let garbage = format!("cores: 2\nmemory: 4096\n{long}\n");
    let (exit, findings) = lint_generated("qemu-server/102.conf", garbage.as_bytes());
    assert_eq!(exit, 1);
    assert_int001_at(&findings, 3, "a megabyte garbage line in qm.conf");

    let yaml = format!("machine:\n  install:\n    image: \"{long}\n");
    let (exit, findings) = lint_generated("talos/worker.yaml", yaml.as_bytes());
    assert_eq!(exit, 1);
    assert!(findings.iter().any(|f| f.code == "INT001"));
}

#[test]
fn every_byte_value_alone_is_handled_in_every_format() {
    let dir = TempDir::new().unwrap();
    for (i, byte) in (0u8..=255).step_by(17).enumerate() {
        for name in [format!("talos/b{i}.yaml"), format!("qemu-server/{i}.conf")] {
            let path = dir.path().join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, [b'a', b':', b' ', byte, b'\n']).unwrap();
        }
    }
    // The whole tree at once: one run, every file reported or read, no panic.
    let output = talhorn(
        dir.path(),
        &["lint", "--select", "INT", "--format", "json", "."],
    );
    assert!(matches!(output.status.code(), Some(0 | 1)));
}
