//! Recognition by evidence: files that only look like Talos configs (a `cluster:` or `debug:`
//! key) stay silent even with a Talos version given, talhelper secrets and Helm chart templates
//! are never parsed, and a run that recognised nothing says so.
//!
//! `fixtures/recognition/<kind>/` holds one misrecognised kind each; the `.talhorn.yaml` above
//! them gives Talos, Longhorn and Proxmox versions (what made every such file "invalid" before).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use talhorn::ingest::Kind;
use talhorn::lint::{LintOutcome, lint_paths};
use talhorn::rules::LintConfig;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/recognition")
}

fn lint(path: &Path) -> LintOutcome {
    let config_file = LintConfig::discover(path).expect("fixtures/recognition/.talhorn.yaml");
    let config = LintConfig::load(&config_file).expect("config loads");
    lint_paths(&[path.to_path_buf()], &config).expect("lint runs")
}

#[test]
fn every_misrecognised_kind_stays_silent_with_versions_given() {
    let cases = [
        "app-config",
        "chart-templates",
        "cilium-values",
        "cnpg-values",
        "kong-values",
        "talhelper-secrets",
    ];
    for case in cases {
        let outcome = lint(&fixtures().join(case));
        let findings: Vec<String> = outcome
            .findings
            .iter()
            .map(|f| format!("{} {}", f.code, f.message))
            .collect();
        assert!(findings.is_empty(), "{case}: {findings:#?}");
        let talos: Vec<&Path> = outcome
            .files
            .iter()
            .filter(|f| f.kind == Kind::Talos)
            .map(|f| &*f.path)
            .collect();
        assert!(talos.is_empty(), "{case}: read as Talos: {talos:?}");
        assert!(!outcome.files.is_empty(), "{case}: no file considered");
    }
}

#[test]
fn kinds_are_decided_by_evidence() {
    let outcome = lint(&fixtures());
    let kind_of = |suffix: &str| {
        outcome
            .files
            .iter()
            .find(|f| f.path.ends_with(suffix))
            .map(|f| f.kind)
            .unwrap_or_else(|| panic!("{suffix} not considered"))
    };
    assert_eq!(kind_of("cilium-values/values.yaml"), Kind::CiliumValues);
    assert_eq!(kind_of("cnpg-values/values.yaml"), Kind::Unrecognised);
    assert_eq!(kind_of("app-config/config.yaml"), Kind::Unrecognised);
    assert_eq!(kind_of("app-config/settings.yaml"), Kind::Unrecognised);
    assert_eq!(
        kind_of("talhelper-secrets/talsecret.sops.yaml"),
        Kind::TalhelperSecrets
    );
    assert_eq!(
        kind_of("talhelper-secrets/talenv.yaml"),
        Kind::TalhelperSecrets
    );
    assert_eq!(kind_of("templates/deployment.yaml"), Kind::HelmTemplate);
    assert_eq!(kind_of("templates/talos-patch.yaml"), Kind::HelmTemplate);
}

#[test]
fn a_chart_template_named_on_the_command_line_is_not_linted() {
    let template = fixtures().join("chart-templates/charts/app/templates/talos-patch.yaml");
    let outcome = lint(&template);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert!(!outcome.recognised_any);
}

#[test]
fn broken_yaml_talhorn_would_read_is_int001_in_a_directory_walk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values = dir.path().join("apps/values.yaml");
    std::fs::create_dir_all(values.parent().expect("parent")).expect("mkdir");
    std::fs::write(&values, "a: *undefined\n").expect("write");
    std::fs::write(dir.path().join("patch.yaml"), "machine:\n\ttype: worker\n").expect("write");
    let config = LintConfig {
        root: dir.path().to_path_buf(),
        ..LintConfig::default()
    };
    let outcome = lint_paths(&[dir.path().to_path_buf()], &config).expect("lint runs");
    let mut reported: Vec<(String, usize)> = outcome
        .findings
        .iter()
        .map(|f| {
            let file = outcome.sources.get(f.at.file);
            let path = file.path.strip_prefix(dir.path()).expect("inside");
            assert_eq!(f.code, "INT001");
            (path.display().to_string(), file.line_col(f.at.span.start).0)
        })
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        [
            ("apps/values.yaml".to_owned(), 1),
            ("patch.yaml".to_owned(), 2)
        ]
    );
}

fn talhorn(dir: &Path, args: &[&str]) -> Output {
    let bin = std::env::var_os("TALHORN_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_talhorn")),
        PathBuf::from,
    );
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the talhorn binary")
}

#[test]
fn a_run_that_recognised_nothing_says_so_instead_of_all_checks_passed() {
    let empty = tempfile::tempdir().expect("tempdir");
    let app = fixtures().join("app-config");
    for (dir, path) in [(empty.path(), "."), (app.as_path(), "config.yaml")] {
        let output = talhorn(dir, &["lint", path]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{stdout}");
        assert!(!stdout.contains("All checks passed"), "{stdout}");
        assert!(stdout.contains("No file was recognised"), "{stdout}");
    }
}

#[test]
fn show_files_lists_every_file_with_its_kind_and_cluster() {
    let output = talhorn(&fixtures(), &["lint", "--show-files", "."]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "chart-templates/charts/app/templates/deployment.yaml\tHelm chart template (not read)\t"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("cilium-values/values.yaml\tCilium Helm values\t"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("talhelper-secrets/talsecret.sops.yaml\ttalhelper secrets/env (not read)\t"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 10, "{stdout}");
}

/// A run that does not list its files (`talhorn lint` without `--show-files`) keeps no record
/// per file, and still knows whether it recognised anything: as the listed run's files say.
#[test]
fn a_run_that_does_not_list_its_files_knows_what_it_recognised() {
    let cases = [
        fixtures(),
        fixtures().join("chart-templates/charts/app/templates/talos-patch.yaml"),
        fixtures().join("talhelper-secrets"),
        fixtures().join("cilium-values"),
    ];
    let mut seen = Vec::new();
    for path in cases {
        let listed = lint(&path);
        let config_file = LintConfig::discover(&path).expect("a .talhorn.yaml above");
        let config = LintConfig::load(&config_file).expect("config loads");
        let unlisted =
            talhorn::lint::lint_paths_with_stdin(std::slice::from_ref(&path), None, &config, false)
                .expect("lint runs");
        let checked = listed.files.iter().any(|f| f.kind.is_checked());
        seen.push(checked);
        assert_eq!(listed.recognised_any, checked, "{}", path.display());
        assert_eq!(unlisted.recognised_any, checked, "{}", path.display());
        assert!(unlisted.files.is_empty(), "{}", path.display());
        assert_eq!(
            format!("{:?}", unlisted.findings),
            format!("{:?}", listed.findings),
            "{}",
            path.display()
        );
    }
    assert!(seen.contains(&true) && seen.contains(&false), "{seen:?}");
}

/// A talhelper `@file` patch whose only Talos evidence beside `cluster:` fields is a delete
/// written `$$patch` (talhelper's spelling of `$patch`: its envsubst makes `$$` a `$`) is a
/// Talos patch: its `allowSchedulingOnControlPlanes` counts.
#[test]
fn a_talhelper_patch_deleting_with_an_escaped_directive_is_a_talos_patch() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules/INT002/silent-talhelper-escaped-delete");
    let config = LintConfig {
        root: fixture.clone(),
        ..LintConfig::default()
    };
    let outcome = lint_paths(&[fixture], &config).expect("lint runs");
    let kind = outcome
        .files
        .iter()
        .find(|f| f.path.ends_with("patches/cluster.yaml"))
        .map(|f| f.kind);
    assert_eq!(kind, Some(Kind::Talos));
}
