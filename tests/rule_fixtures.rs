//! Every rule fires on its fixtures and stays silent on good input.
//!
//! Layout: `fixtures/rules/<CODE>/<case>/` is a small repository (any file kinds, an intent
//! included). Its `expected.txt` lists the findings of `<CODE>` that linting the case directory
//! must produce, one `path:line` per line (path relative to the case directory); an empty or
//! absent `expected.txt` means the rule must stay silent there. Cases named `fires*` must
//! expect at least one finding; cases named `silent*` must expect none.

use std::fs;
use std::path::{Path, PathBuf};
use talhorn::lint::lint_paths;
use talhorn::rules::{LintConfig, all_meta};

fn fixture_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules")
}

fn expected(case: &Path) -> Vec<String> {
    let mut lines: Vec<String> = fs::read_to_string(case.join("expected.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn actual(code: &str, case: &Path) -> Vec<String> {
    // As `talhorn lint` does: the case's own `.talhorn.yaml` (lint context), else defaults.
    let config_file = case.join(".talhorn.yaml");
    let config = if config_file.is_file() {
        LintConfig::load(&config_file).unwrap_or_else(|e| panic!("{}: {e}", case.display()))
    } else {
        LintConfig {
            root: case.to_path_buf(),
            ..LintConfig::default()
        }
    };
    let outcome = lint_paths(&[case.to_path_buf()], &config)
        .unwrap_or_else(|e| panic!("{}: lint failed: {e}", case.display()));
    let mut lines: Vec<String> = outcome
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| {
            let file = outcome.sources.get(f.at.file);
            let (line, _) = file.line_col(f.at.span.start);
            let path = file.path.strip_prefix(case).unwrap_or(&file.path);
            format!("{}:{line}", path.display())
        })
        .collect();
    lines.sort();
    lines
}

fn cases(code: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixture_root().join(code))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    cases
}

#[test]
fn every_fixture_gives_exactly_its_expected_findings() {
    let mut failures = Vec::new();
    for meta in all_meta() {
        for case in cases(meta.code) {
            let want = expected(&case);
            let name = case
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            assert!(
                !name.starts_with("fires") || !want.is_empty(),
                "{}: a `fires` case must expect findings",
                case.display()
            );
            assert!(
                !name.starts_with("silent") || want.is_empty(),
                "{}: a `silent` case must expect none",
                case.display()
            );
            let got = actual(meta.code, &case);
            if got != want {
                failures.push(format!(
                    "{}\n  expected: {want:?}\n  got:      {got:?}",
                    case.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixture mismatches:\n{}",
        failures.join("\n")
    );
}

/// Rules that are reported by `build`/`lint` plumbing rather than by fixtures of their own.
const WITHOUT_FIXTURES: &[&str] = &[];

#[test]
fn every_rule_has_a_firing_and_a_silent_fixture() {
    let missing: Vec<String> = all_meta()
        .iter()
        .filter(|m| !WITHOUT_FIXTURES.contains(&m.code))
        .filter_map(|m| {
            let names: Vec<String> = cases(m.code)
                .iter()
                .filter_map(|c| c.file_name()?.to_str().map(String::from))
                .collect();
            let fires = names.iter().any(|n| n.starts_with("fires"));
            let silent = names.iter().any(|n| n.starts_with("silent"));
            (!fires || !silent).then(|| format!("{} (fires: {fires}, silent: {silent})", m.code))
        })
        .collect();
    assert!(missing.is_empty(), "rules without fixtures: {missing:?}");
}
