//! `talhorn lint`: ingest → model → rules → report.

use super::{EXIT_FINDINGS, EXIT_OK, LintArgs, fail, report_options, rule_infos, use_color};
use crate::lint::LintOutcome;
use crate::report::{self, Format};
use crate::rules::LintConfig;
use std::fmt::Write as _;

fn config(args: &LintArgs) -> Result<LintConfig, String> {
    let path = match &args.config {
        Some(path) => Some(path.clone()),
        None => args.paths.first().and_then(|p| LintConfig::discover(p)),
    };
    let mut config = match path {
        Some(path) => LintConfig::load(&path).map_err(|e| e.to_string())?,
        // No configuration file: an empty root, so each cluster's own `.talhorn.yaml` applies.
        None => LintConfig::default(),
    };
    let known = |code: &String| {
        code.eq_ignore_ascii_case("ALL")
            || crate::rules::all_meta()
                .iter()
                .any(|m| m.code.starts_with(&code.to_ascii_uppercase()))
    };
    if let Some(bad) = args.select.iter().chain(&args.ignore).find(|c| !known(c)) {
        return Err(format!(
            "`{bad}` is not a rule code or prefix (see `talhorn rules`)"
        ));
    }
    if !args.select.is_empty() {
        config.select.clone_from(&args.select);
    }
    config.ignore.extend(args.ignore.iter().cloned());
    Ok(config)
}

pub fn run(args: &LintArgs) -> i32 {
    let config = match config(args) {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    let outcome = match crate::lint::lint_paths(&args.paths, &config) {
        Ok(outcome) => outcome,
        Err(e) => return fail(e),
    };
    if args.show_files {
        print!("{}", file_list(&outcome));
        return EXIT_OK;
    }
    let color = args.output_file.is_none() && use_color();
    let mut options = report_options(args.format, args.statistics, color);
    options.recognised_nothing = !outcome.recognised_any();
    if options.recognised_nothing && args.format != Format::Human {
        // Machine formats stay valid documents; the note goes to people on stderr.
        eprintln!("note: {}", report::NOTHING_RECOGNISED);
    }
    let text = report::render(
        args.format,
        &outcome.findings,
        &outcome.sources,
        &rule_infos(),
        &options,
    );
    match &args.output_file {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
        None => print!("{text}"),
    }
    let threshold = args.fail_on.severity();
    if !args.exit_zero && outcome.findings.iter().any(|f| f.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// `--show-files`: one line per file, `path<TAB>kind<TAB>clusters`.
fn file_list(outcome: &LintOutcome) -> String {
    let root = std::env::current_dir().unwrap_or_default();
    let mut out = String::new();
    for file in &outcome.files {
        let _ = writeln!(
            out,
            "{}\t{}\t{}",
            report::display_path(&file.path, &root),
            file.kind.label(),
            file.clusters.join(", ")
        );
    }
    out
}
