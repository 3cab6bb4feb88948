//! `talhorn lint`: ingest → model → rules → report.

use super::{
    EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, LintArgs, Stream, fail, print_err, print_out,
    print_out_with, quiet, report_options, rule_infos,
};
use crate::lint::LintOutcome;
use crate::report::{self, Format};
use crate::rules::LintConfig;
use crate::rules::config::Overrides;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

/// `-` among the paths: standard input, named by `--stdin-filename` (its kind and the
/// configuration that applies come from that name).
fn stdin_name(args: &LintArgs) -> Result<Option<PathBuf>, String> {
    let dash = args.paths.iter().filter(|p| p.as_os_str() == "-").count();
    match (dash, &args.stdin_filename) {
        (0, None) => Ok(None),
        (0, Some(_)) => Err("--stdin-filename needs `-` among the paths to lint".into()),
        (1, None) => Err(
            "`-` reads standard input: name it with --stdin-filename (e.g. cluster.yaml, \
             proxmox/101.conf) so talhorn knows what kind of file it is"
                .into(),
        ),
        (1, Some(name)) if crate::ingest::is_known_name(name) => Ok(Some(name.clone())),
        (1, Some(name)) => Err(format!(
            "--stdin-filename {}: talhorn does not read files of this name; use a .yaml, .conf \
             or .cfg name, or `interfaces`",
            name.display()
        )),
        _ => Err("`-` (standard input) can be given only once".into()),
    }
}

pub fn run(args: &LintArgs) -> i32 {
    // The whole lint runs on the workers, its serial steps too, so that the process's main
    // thread is not running beside them: a worker woken while another thread held each CPU
    // was put beside one and left to share that CPU for most of a run (see
    // docs/performance.md, "Where the second core goes").
    crate::yaml::on_workers(|| run_on_workers(args))
}

fn run_on_workers(args: &LintArgs) -> i32 {
    let config = match config(args) {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    let stdin = match stdin_name(args) {
        Ok(stdin) => stdin,
        Err(e) => return fail(e),
    };
    let paths: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let linted =
        crate::lint::lint_paths_with_stdin(&paths, stdin.as_deref(), &config, args.show_files);
    let outcome = match linted {
        // The process ends after the report, and the system frees its memory at once: freeing
        // every text, parse tree and model piece by piece first cost 5% of a large lint.
        Ok(outcome) => std::mem::ManuallyDrop::new(outcome),
        Err(e) => return fail(e),
    };
    if args.show_files {
        return if print_out(&file_list(&outcome)) {
            EXIT_OK
        } else {
            EXIT_ERROR
        };
    }
    let stream = args.output_file.is_none().then_some(Stream::Stdout);
    let mut options = report_options(args.format, args.statistics, stream);
    options.recognised_nothing = !outcome.recognised_any;
    if options.recognised_nothing && args.format != Format::Human {
        // Machine formats stay valid documents; the note goes to people on stderr.
        print_err(&format!("note: {}\n", report::NOTHING_RECOGNISED));
    }
    let rules = rule_infos();
    let write = |out: &mut dyn std::io::Write| {
        report::write(
            args.format,
            &outcome.findings,
            &outcome.sources,
            &rules,
            &options,
            out,
        )
    };
    // `-q`: a clean run prints nothing (machine formats are always written).
    let silent = quiet()
        && outcome.findings.is_empty()
        && matches!(args.format, Format::Human | Format::Concise);
    match &args.output_file {
        Some(path) => {
            let mut text = Vec::new();
            let written = write(&mut text).map_err(|e| e.to_string());
            if let Err(e) = written.and_then(|()| write_report(path, &text)) {
                return fail(e);
            }
        }
        None if silent => {}
        // Written as it is made: a large report is not held whole first.
        None => {
            if !print_out_with(write) {
                return EXIT_ERROR;
            }
        }
    }
    for (path, kind) in &outcome.skipped {
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

/// `--output-file`: its folders are created, and the file is replaced atomically.
fn write_report(path: &Path, text: &[u8]) -> Result<(), String> {
    super::misc::create_parent(path)?;
    crate::write::write_file_atomically(path, text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
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
