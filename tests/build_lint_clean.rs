//! Compile = lower + lint + emit: what `build` writes must lint clean, for every fixture. A
//! warning the intent itself carries (a choice the user made, such as the V2 engine on a chart
//! that calls it experimental) may show in the output too; nothing else may.

mod build_support;

use talhorn::finding::Severity;
use talhorn::rules::LintConfig;

#[test]
fn every_fixture_builds_output_that_lints_without_errors_or_warnings() {
    let mut problems = Vec::new();
    for intent in build_support::fixture_intents() {
        let accepted = intent_warning_codes(&intent);
        let out = build_support::build_into_temp_dir(&intent);
        let config = LintConfig {
            root: out.path().to_path_buf(),
            ..LintConfig::default()
        };
        let outcome = talhorn::lint::lint_paths(&[out.path().to_path_buf()], &config)
            .expect("lint the output");
        // A lint checks each model and drops it: the model comes from the same read.
        let models =
            talhorn::ingest::ingest(&[out.path().to_path_buf()], &config).expect("read the output");
        let cluster = &models.clusters[0].cluster;
        assert!(
            !cluster.vms.is_empty(),
            "{}: the linter read no VM",
            intent.display()
        );
        assert!(
            !cluster.talos.configs.is_empty(),
            "{}: the linter read no Talos config",
            intent.display()
        );
        for finding in outcome
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning && !accepted.contains(&f.code))
        {
            let file = outcome.sources.get(finding.at.file);
            let (line, _) = file.line_col(finding.at.span.start);
            problems.push(format!(
                "{}: {}:{line}: {} {}",
                build_support::fixture_name(&intent),
                file.path.display(),
                finding.code,
                finding.message
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "generated output has findings:\n{}",
        problems.join("\n")
    );
}

/// Codes of the warnings linting the intent alone reports.
fn intent_warning_codes(intent: &std::path::Path) -> Vec<&'static str> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(intent, dir.path().join("cluster.yaml")).expect("copy intent");
    let config = LintConfig {
        root: dir.path().to_path_buf(),
        ..LintConfig::default()
    };
    let outcome =
        talhorn::lint::lint_paths(&[dir.path().to_path_buf()], &config).expect("lint the intent");
    outcome
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| f.code)
        .collect()
}
