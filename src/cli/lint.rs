//! `talhorn lint`: ingest → model → rules → report.

use super::{EXIT_FINDINGS, EXIT_OK, LintArgs, fail, render, use_color};
use crate::rules::LintConfig;
use crate::rules::config::Overrides;

fn config(args: &LintArgs) -> Result<LintConfig, String> {
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
    // `--config` names the one configuration; otherwise each file's nearest one applies.
    let (path, per_file) = match &args.config {
        Some(path) => (Some(path.clone()), false),
        None => (
            args.paths.first().and_then(|p| LintConfig::discover(p)),
            true,
        ),
    };
    let mut config = match path {
        Some(path) => LintConfig::load(&path).map_err(|e| e.to_string())?,
        None => LintConfig {
            root: std::env::current_dir().unwrap_or_default(),
            ..LintConfig::default()
        },
    };
    config.per_file = per_file;
    config.apply(&Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    });
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
        None => print!("{text}"),
    }
    let threshold = args.fail_on.severity();
    if !args.exit_zero && outcome.findings.iter().any(|f| f.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
