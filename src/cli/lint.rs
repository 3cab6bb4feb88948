//! `talhorn lint`: ingest → model → rules → report.

use super::{
    EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, LintArgs, fail, print_err, print_out, render, use_color,
};
use crate::rules::LintConfig;

fn config(args: &LintArgs) -> Result<LintConfig, String> {
    let path = match &args.config {
        Some(path) => Some(path.clone()),
        None => args.paths.first().and_then(|p| LintConfig::discover(p)),
    };
    let mut config = match path {
        Some(path) => LintConfig::load(&path).map_err(|e| e.to_string())?,
        None => LintConfig {
            root: std::env::current_dir().unwrap_or_default(),
            ..LintConfig::default()
        },
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
    let color = args.output_file.is_none() && use_color();
    let text = render(
        args.format,
        &outcome.findings,
        &outcome.cluster.sources,
        args.statistics,
        color,
    );
    match &args.output_file {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
        None => {
            if !print_out(&text) {
                return EXIT_ERROR;
            }
        }
    }
    for (path, kind) in &outcome.cluster.skipped {
        let path = path.strip_prefix(".").unwrap_or(path).display().to_string();
        print_err(&format!(
            "note: skipped {}: {kind}, not a regular file\n",
            crate::report::escape_line(&path)
        ));
    }
    let threshold = args.fail_on.severity();
    if !args.exit_zero && outcome.findings.iter().any(|f| f.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
