//! The exit codes and output formats of the `talhorn` binary, as CI and pre-commit see them.
//!
//! Every test runs the real binary in a temporary copy of a fixture under `fixtures/cli/`, so
//! no `.talhorn.yaml` or `.gitignore` of this repository can change what it reads:
//! - `clean/`: a hand-written `qm.conf` with no finding at all;
//! - `warning/`: Longhorn values with a stale ignore comment (INT004, a warning; no error);
//! - `kvm64/`: the same VM with `cpu: kvm64` (PVE001, an error).
//!
//! Exit codes (DESIGN.md §1): 0 nothing at or above `--fail-on`; 1 findings at or above it, or
//! drift under `build --check`; 2 the tool could not do its job.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const OK: i32 = 0;
const FINDINGS: i32 = 1;
const USAGE_OR_INPUT: i32 = 2;

/// A temporary directory holding copies of `fixtures/cli/<name>` for each name given.
fn workspace(fixtures: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cli");
    for name in fixtures {
        copy_tree(&source.join(name), &dir.path().join(name));
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a fixture directory");
    for entry in std::fs::read_dir(from).expect("read a fixture directory") {
        let entry = entry.expect("read a fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("fixture file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

/// Runs `talhorn ARGS` in `dir`, without colour.
fn talhorn(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_talhorn"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the talhorn binary")
}

fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("talhorn was killed by a signal: {output:?}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts the exit code, showing both streams when it is wrong.
fn assert_exit(output: &Output, expected: i32) {
    assert_eq!(
        code(output),
        expected,
        "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    );
}

/// `(code, severity)` of every finding in a `--format json` report.
fn findings(json_report: &str) -> Vec<(String, String)> {
    let report: Value = serde_json::from_str(json_report).expect("the json report parses");
    let list = report["findings"]
        .as_array()
        .expect("the json report has a findings array");
    list.iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_owned(),
                f["severity"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn lint_json(dir: &Path, fixture: &str, extra: &[&str]) -> (Output, Vec<(String, String)>) {
    let mut args = vec!["lint", fixture, "--format", "json"];
    args.extend_from_slice(extra);
    let output = talhorn(dir, &args);
    let found = findings(&stdout(&output));
    (output, found)
}

// ---- lint: exit codes -------------------------------------------------------------------------

#[test]
fn lint_clean_repository_exits_0_without_findings() {
    let dir = workspace(&["clean"]);
    let (output, found) = lint_json(dir.path(), "clean", &[]);
    assert_exit(&output, OK);
    assert_eq!(found, Vec::new(), "the clean fixture must have no finding");
}

#[test]
fn lint_findings_below_fail_on_exit_0() {
    let dir = workspace(&["warning"]);
    let (output, found) = lint_json(dir.path(), "warning", &[]);
    assert_exit(&output, OK);
    assert!(
        found
            .iter()
            .any(|(code, sev)| code == "INT004" && sev == "warning"),
        "expected the INT004 warning, got {found:?}"
    );
    assert!(
        found.iter().all(|(_, sev)| sev != "error"),
        "the warning fixture must have no error, got {found:?}"
    );
}

#[test]
fn lint_findings_at_fail_on_exit_1() {
    let dir = workspace(&["warning", "kvm64"]);
    let (output, _) = lint_json(dir.path(), "warning", &["--fail-on", "warning"]);
    assert_exit(&output, FINDINGS);

    let (output, found) = lint_json(dir.path(), "kvm64", &[]);
    assert_exit(&output, FINDINGS);
    assert!(
        found.contains(&("PVE001".to_owned(), "error".to_owned())),
        "expected PVE001 for `cpu: kvm64`, got {found:?}"
    );
}

#[test]
fn lint_exit_zero_reports_but_exits_0() {
    let dir = workspace(&["kvm64"]);
    let (output, found) = lint_json(dir.path(), "kvm64", &["--exit-zero"]);
    assert_exit(&output, OK);
    assert!(
        found.iter().any(|(code, _)| code == "PVE001"),
        "--exit-zero must still report findings, got {found:?}"
    );
}

#[test]
fn lint_select_and_ignore_decide_the_exit_code() {
    let dir = workspace(&["kvm64"]);
    let (output, found) = lint_json(dir.path(), "kvm64", &["--ignore", "PVE001"]);
    assert_exit(&output, OK);
    assert!(found.iter().all(|(code, _)| code != "PVE001"), "{found:?}");

    let (output, found) = lint_json(dir.path(), "kvm64", &["--select", "PVE001"]);
    assert_exit(&output, FINDINGS);
    assert!(found.iter().all(|(code, _)| code == "PVE001"), "{found:?}");
}

#[test]
fn lint_unknown_flag_is_a_usage_error() {
    let dir = workspace(&["clean"]);
    let output = talhorn(dir.path(), &["lint", "clean", "--no-such-flag"]);
    assert_exit(&output, USAGE_OR_INPUT);
    assert!(
        stderr(&output).contains("--no-such-flag"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn lint_unknown_rule_code_is_a_usage_error() {
    let dir = workspace(&["clean"]);
    for option in ["--select", "--ignore"] {
        let output = talhorn(dir.path(), &["lint", "clean", option, "NOPE42"]);
        assert_exit(&output, USAGE_OR_INPUT);
        assert!(
            stderr(&output).contains("NOPE42"),
            "{option}: the error must name the code: {}",
            stderr(&output)
        );
    }
}

#[test]
fn lint_nonexistent_path_is_an_input_error() {
    let dir = workspace(&["clean"]);
    let output = talhorn(dir.path(), &["lint", "clean", "no-such-dir"]);
    assert_exit(&output, USAGE_OR_INPUT);
    assert!(
        stderr(&output).contains("no-such-dir"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).is_empty(),
        "no report when the input is bad"
    );
}

#[test]
fn lint_missing_config_file_is_an_input_error() {
    let dir = workspace(&["clean"]);
    let output = talhorn(dir.path(), &["lint", "clean", "--config", "missing.yaml"]);
    assert_exit(&output, USAGE_OR_INPUT);
    assert!(
        stderr(&output).contains("missing.yaml"),
        "{}",
        stderr(&output)
    );
}

// ---- lint: formats ----------------------------------------------------------------------------

fn lint_format(dir: &Path, format: &str) -> String {
    let output = talhorn(dir, &["lint", "kvm64", "--format", format]);
    assert_exit(&output, FINDINGS);
    stdout(&output)
}

#[test]
fn json_format_parses_and_counts_the_findings() {
    let dir = workspace(&["kvm64"]);
    let report: Value = serde_json::from_str(&lint_format(dir.path(), "json")).expect("json");
    let total = report["summary"]["total"].as_u64().expect("summary.total");
    let listed = report["findings"].as_array().map_or(0, Vec::len);
    assert!(total >= 1);
    assert_eq!(usize::try_from(total).ok(), Some(listed));
}

#[test]
fn sarif_format_has_a_run_with_the_result() {
    let dir = workspace(&["kvm64"]);
    let sarif: Value = serde_json::from_str(&lint_format(dir.path(), "sarif")).expect("sarif");
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().expect("sarif has runs");
    assert_eq!(runs.len(), 1);
    let results = runs[0]["results"].as_array().expect("the run has results");
    assert!(
        results.iter().any(|r| r["ruleId"] == "PVE001"),
        "{results:?}"
    );
}

#[test]
fn github_format_is_workflow_commands() {
    let dir = workspace(&["kvm64"]);
    let text = lint_format(dir.path(), "github");
    assert!(!text.trim().is_empty());
    for line in text.lines() {
        assert!(line.starts_with("::"), "not a workflow command: {line}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=kvm64/proxmox/101-cp-1.conf,line=")),
        "{text}"
    );
}

#[test]
fn gitlab_format_is_a_code_quality_array() {
    let dir = workspace(&["kvm64"]);
    let report: Value = serde_json::from_str(&lint_format(dir.path(), "gitlab")).expect("gitlab");
    let issues = report.as_array().expect("a JSON array");
    let pve001 = issues
        .iter()
        .find(|i| i["check_name"] == "PVE001")
        .expect("PVE001 is in the report");
    assert_eq!(pve001["severity"], "major");
    assert_eq!(pve001["location"]["path"], "kvm64/proxmox/101-cp-1.conf");
}

/// Whether `line` is `path:line:col: CODE [severity] message`.
fn is_concise_line(line: &str) -> bool {
    let mut parts = line.splitn(4, ':');
    let (Some(path), Some(row), Some(col), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut words = rest.trim_start().splitn(3, ' ');
    let (Some(rule), Some(severity)) = (words.next(), words.next()) else {
        return false;
    };
    let rule_is_code =
        rule.len() > 3 && rule[..3].bytes().all(|b| b.is_ascii_uppercase()) && numeric(&rule[3..]);
    !path.is_empty()
        && numeric(row)
        && numeric(col)
        && rule_is_code
        && matches!(severity, "[error]" | "[warning]" | "[info]")
}

#[test]
fn concise_format_is_one_finding_per_line() {
    let dir = workspace(&["kvm64"]);
    let text = lint_format(dir.path(), "concise");
    assert!(!text.trim().is_empty());
    for line in text.lines() {
        assert!(
            is_concise_line(line),
            "not `path:line:col: CODE [sev]`: {line}"
        );
    }
    assert!(
        text.lines().any(
            |l| l.starts_with("kvm64/proxmox/101-cp-1.conf:") && l.contains(" PVE001 [error] ")
        ),
        "{text}"
    );
}

#[test]
fn concise_line_shape_check_rejects_other_lines() {
    assert!(is_concise_line("a/b.conf:6:6: PVE001 [error] cpu"));
    assert!(!is_concise_line("a/b.conf:6: PVE001 [error] cpu"));
    assert!(!is_concise_line("a/b.conf:x:6: PVE001 [error] cpu"));
    assert!(!is_concise_line("a/b.conf:6:6: pve001 [error] cpu"));
    assert!(!is_concise_line("a/b.conf:6:6: PVE001 error cpu"));
    assert!(!is_concise_line("1  PVE001  cpu-lacks-x86-64-v2"));
}

#[test]
fn human_format_names_the_rule_and_summarises() {
    let dir = workspace(&["kvm64", "clean"]);
    let text = lint_format(dir.path(), "human");
    assert!(text.contains("error[PVE001]"), "{text}");
    assert!(text.contains("Found "), "{text}");

    let clean = talhorn(dir.path(), &["lint", "clean"]);
    assert_exit(&clean, OK);
    assert!(
        stdout(&clean).contains("All checks passed."),
        "{}",
        stdout(&clean)
    );
}

/// The report is written to standard output as it is made, and made whole for a file: both
/// are the same bytes, in every format.
#[test]
fn output_file_receives_the_report_instead_of_stdout() {
    let dir = workspace(&["kvm64"]);
    for format in ["sarif", "json", "gitlab", "human", "concise", "github"] {
        let on_stdout = lint_format(dir.path(), format);
        assert!(!on_stdout.is_empty(), "{format}");
        let file = format!("talhorn.{format}");
        let output = talhorn(
            dir.path(),
            &["lint", "kvm64", "--format", format, "--output-file", &file],
        );
        assert_exit(&output, FINDINGS);
        assert!(stdout(&output).is_empty(), "{}", stdout(&output));
        let written = std::fs::read_to_string(dir.path().join(&file)).expect("file written");
        assert_eq!(written, on_stdout, "{format}");
    }
}

#[test]
fn statistics_add_a_count_per_code() {
    let dir = workspace(&["kvm64"]);
    let (_, found) = lint_json(dir.path(), "kvm64", &[]);
    let pve001 = found.iter().filter(|(code, _)| code == "PVE001").count();

    let plain = talhorn(dir.path(), &["lint", "kvm64", "--format", "json"]);
    let plain: Value = serde_json::from_str(&stdout(&plain)).expect("json");
    assert!(
        plain["summary"].get("byCode").is_none(),
        "byCode only with --statistics"
    );

    let stats = talhorn(
        dir.path(),
        &["lint", "kvm64", "--format", "json", "--statistics"],
    );
    let stats: Value = serde_json::from_str(&stdout(&stats)).expect("json");
    let by_code = stats["summary"]["byCode"]
        .as_array()
        .expect("summary.byCode");
    let entry = by_code
        .iter()
        .find(|e| e["code"] == "PVE001")
        .expect("PVE001 counted");
    assert_eq!(entry["count"].as_u64(), u64::try_from(pve001).ok());

    let concise = talhorn(
        dir.path(),
        &["lint", "kvm64", "--format", "concise", "--statistics"],
    );
    let table_line = stdout(&concise)
        .lines()
        .find(|l| !is_concise_line(l) && l.contains("PVE001"))
        .map(str::to_owned);
    let table_line = table_line.expect("a statistics line after the findings");
    assert!(
        table_line.trim_start().starts_with(&pve001.to_string()),
        "{table_line}"
    );
}

// ---- build ------------------------------------------------------------------------------------

fn example_intent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab.yaml")
}

/// A temporary directory with the example intent as `cluster.yaml`.
fn gitops_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    std::fs::copy(example_intent(), dir.path().join("cluster.yaml")).expect("copy the intent");
    dir
}

#[test]
fn build_check_exits_1_on_drift_and_0_when_up_to_date() {
    let dir = gitops_repo();
    let never_built = talhorn(dir.path(), &["build", "--check"]);
    assert_exit(&never_built, FINDINGS);
    assert!(
        !dir.path().join("out").exists(),
        "--check must write nothing"
    );

    assert_exit(&talhorn(dir.path(), &["build"]), OK);
    assert_exit(&talhorn(dir.path(), &["build", "--check"]), OK);

    let runbook = dir.path().join("out/RUNBOOK.md");
    let mut text = std::fs::read_to_string(&runbook).expect("RUNBOOK.md written");
    text.push_str("\nedited by hand\n");
    std::fs::write(&runbook, &text).expect("edit RUNBOOK.md");
    assert_exit(&talhorn(dir.path(), &["build", "--check"]), FINDINGS);
    assert_eq!(
        std::fs::read_to_string(&runbook).ok().as_deref(),
        Some(text.as_str()),
        "--check must not touch the edited file"
    );
}

#[test]
fn build_with_lint_errors_exits_1_and_writes_nothing() {
    let dir = gitops_repo();
    let intent = dir.path().join("cluster.yaml");
    let text = std::fs::read_to_string(&intent).expect("read the intent");
    assert!(
        text.contains("cpu: host"),
        "the example intent pins `cpu: host`"
    );
    std::fs::write(&intent, text.replace("cpu: host", "cpu: kvm64")).expect("plant kvm64");
    let output = talhorn(dir.path(), &["build"]);
    assert_exit(&output, FINDINGS);
    assert!(stderr(&output).contains("PVE001"), "{}", stderr(&output));
    assert!(
        !dir.path().join("out").exists(),
        "nothing is written on errors"
    );
}

#[test]
fn build_missing_intent_is_an_input_error() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let output = talhorn(dir.path(), &["build", "absent.yaml"]);
    assert_exit(&output, USAGE_OR_INPUT);
    assert!(
        stderr(&output).contains("absent.yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn build_unparsable_intent_is_an_input_error() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    std::fs::write(dir.path().join("cluster.yaml"), "cluster: [unclosed\n").expect("write");
    let output = talhorn(dir.path(), &["build"]);
    assert_exit(&output, USAGE_OR_INPUT);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn build_unknown_flag_is_a_usage_error() {
    let dir = gitops_repo();
    let output = talhorn(dir.path(), &["build", "--no-such-flag"]);
    assert_exit(&output, USAGE_OR_INPUT);
}

// ---- completions ------------------------------------------------------------------------------

#[test]
fn completions_exist_for_each_shell() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    for shell in ["bash", "zsh", "fish"] {
        let output = talhorn(dir.path(), &["completions", shell]);
        assert_exit(&output, OK);
        let script = stdout(&output);
        assert!(
            script.contains("talhorn") && script.contains("lint"),
            "{shell}: completions must know the command and its subcommands"
        );
    }
}
