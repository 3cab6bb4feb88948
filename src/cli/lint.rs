//! `talhorn lint`: ingest → model → rules → report.

use super::{
    EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, LintArgs, Stream, fail, print_err, print_out,
    print_out_with, quiet, report_options, rule_infos,
};
use crate::lint::{LintOutcome, apart};
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
    if let Some(exit) = lint_apart(args, &config, stdin.as_deref(), &paths) {
        return exit;
    }
    let linted =
        crate::lint::lint_paths_with_stdin(&paths, stdin.as_deref(), &config, args.show_files);
    match linted {
        Ok(outcome) => report_whole(args, outcome),
        Err(e) => fail(e),
    }
}

/// Reports a lint run whole: the files considered (`--show-files`) or the findings.
fn report_whole(args: &LintArgs, outcome: LintOutcome) -> i32 {
    // The process ends after the report, and the system frees its memory at once: freeing
    // every text, parse tree and model piece by piece first cost 5% of a large lint.
    let outcome = std::mem::ManuallyDrop::new(outcome);
    if args.show_files {
        return if print_out(&file_list(&outcome)) {
            EXIT_OK
        } else {
            EXIT_ERROR
        };
    }
    report_findings(args, &[&outcome])
}

/// Reports the findings of one lint, or of several lints of one folder (its rest and its only
/// piece), as one report.
fn report_findings(args: &LintArgs, parts: &[&LintOutcome]) -> i32 {
    note_nothing_recognised(args, !parts.iter().any(|part| part.recognised_any));
    let stream = args.output_file.is_none().then_some(Stream::Stdout);
    let write = |out: &mut dyn std::io::Write| write_findings(args, parts, stream, out);
    let clean = parts.iter().all(|part| part.findings.is_empty());
    if let Err(exit) = deliver(args, clean, write) {
        return exit;
    }
    let mut skipped: Vec<_> = parts.iter().flat_map(|part| &part.skipped).collect();
    skipped.sort();
    note_skipped(skipped);
    exit_code(args, parts.iter().any(|part| failing(args, &part.findings)))
}

/// Writes the report of `parts` as one to `out`, which is `stream` (`None`: a file).
fn write_findings(
    args: &LintArgs,
    parts: &[&LintOutcome],
    stream: Option<Stream>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut options = report_options(args.format, args.statistics, stream);
    options.recognised_nothing = !parts.iter().any(|part| part.recognised_any);
    let findings: Vec<_> = parts
        .iter()
        .map(|part| (&part.findings[..], &part.sources))
        .collect();
    report::write_parts(args.format, &findings, &rule_infos(), &options, out)
}

/// `talhorn lint DIR` with its cluster folders linted a few at a time
/// ([`crate::lint::apart`]), so that the lint's memory does not grow with the repository.
/// `None`: lint whole instead (see [`lint_in_pieces`]).
fn lint_apart(
    args: &LintArgs,
    config: &LintConfig,
    stdin: Option<&Path>,
    paths: &[PathBuf],
) -> Option<i32> {
    let [root] = paths else { return None };
    if stdin.is_some() {
        return None;
    }
    let spooled = match lint_in_pieces(args, config, root, apart::PIECE_FILES)? {
        Ok(InPieces::Whole(outcome)) => return Some(report_whole(args, outcome)),
        Ok(InPieces::OnePiece { rest, piece }) => {
            let parts = std::mem::ManuallyDrop::new([rest, piece]);
            return Some(report_findings(args, &[&parts[0], &parts[1]]));
        }
        Ok(InPieces::Spooled(spooled)) => spooled,
        Err(e) => return Some(fail(format!("cannot write the report: {e}"))),
    };
    let Spooled {
        totals,
        mut spool,
        mut seen,
    } = spooled;
    note_nothing_recognised(args, !seen.recognised_any);
    let copied = |out: &mut dyn std::io::Write| {
        use std::io::Seek;
        out.write_all(totals.preamble.as_bytes())?;
        spool.rewind()?;
        let mut spooled = std::io::BufReader::with_capacity(SPOOL_BUFFER_BYTES, &mut spool);
        std::io::copy(&mut spooled, out).map(drop)
    };
    if let Err(exit) = deliver(args, totals.counts.total() == 0, copied) {
        return Some(exit);
    }
    seen.skipped.sort();
    note_skipped(&seen.skipped);
    Some(exit_code(args, seen.failing))
}

/// How much of the report goes to and from its spool in one system call: with the 8 KiB of a
/// default buffer, a 2,000-file lint's 250 KB report took 33 writes and 32 reads, all of them
/// on one thread after the lint.
const SPOOL_BUFFER_BYTES: usize = 64 * 1024;

/// What a lint in pieces gives.
enum InPieces {
    /// Nothing was set apart: the lint of the rest is the whole lint.
    Whole(LintOutcome),
    /// The folders set apart made one piece: the report is made of the two, with nothing
    /// spooled.
    OnePiece {
        rest: LintOutcome,
        piece: LintOutcome,
    },
    /// The report, made in pieces.
    Spooled(Spooled),
}

/// A report made in pieces into an unnamed temporary file.
struct Spooled {
    totals: report::ReportTotals,
    spool: std::fs::File,
    seen: Seen,
}

/// Lints the folder `root` in pieces, the report made as they come into an unnamed temporary
/// file: a piece may still show that the folder must be linted whole, and GitHub's notices
/// about dropped annotations go before the findings. A single piece is handed back with the
/// rest instead, its report written straight out: spooling it took a 2,000-file lint 0.8-1.3
/// ms longer on two cores, all of it on one thread. `None`: lint whole, for `--show-files`,
/// `shared:` files (they belong to every cluster), a piece that needs files outside it, an
/// error (the whole lint reports it at its place), or no temporary file to be had; `Err`: the
/// spool cannot be written.
fn lint_in_pieces(
    args: &LintArgs,
    config: &LintConfig,
    root: &Path,
    piece_files: usize,
) -> Option<Result<InPieces, std::io::Error>> {
    if args.show_files || !config.shared.is_empty() || !root.is_dir() {
        return None;
    }
    let apart = apart::walk(root, config, piece_files).ok()?;
    if !apart.has_pieces() {
        let (rest, _) = apart.lint_rest().ok()?;
        return Some(Ok(InPieces::Whole(rest)));
    }
    let (rest, mut pieces) = apart.lint_rest().ok()?;
    let first = pieces.next()?.ok()?;
    if pieces.is_done() {
        return Some(Ok(InPieces::OnePiece { rest, piece: first }));
    }
    // Without a temporary file the folder is linted again, whole: rare, and still right.
    let spool = tempfile::tempfile().ok()?;
    let stream = args.output_file.is_none().then_some(Stream::Stdout);
    let options = report_options(args.format, args.statistics, stream);
    let rules = rule_infos();
    let mut report = report::ReportStream::new(args.format, &rules, &options);
    let mut spool = std::io::BufWriter::with_capacity(SPOOL_BUFFER_BYTES, spool);
    let mut seen = Seen::default();
    seen.add(args, &rest);
    let rest_report = report::Report::new(&rest.findings, &rest.sources, &rules, &options);
    // The rest's findings, merged in where they belong among the pieces'.
    let mut held = rest_report.entries.iter().peekable();
    for piece in std::iter::once(Ok(first)).chain(pieces) {
        let piece = piece.ok()?;
        seen.add(args, &piece);
        let piece_report = report::Report::new(&piece.findings, &piece.sources, &rules, &options);
        let mut before = Vec::new();
        if let Some(last) = piece_report.entries.last() {
            while let Some(entry) = held.next_if(|entry| report::report_order(entry, last).is_lt())
            {
                before.push(entry);
            }
        }
        let entries = merge_sorted(before, &piece_report.entries);
        if let Err(e) = report.write_entries(&entries, &mut spool) {
            return Some(Err(e));
        }
        drop(piece_report);
        // Freed on an idle worker while the next piece is walked (or the report finished):
        // a piece of 2,000 files took 0.15-0.25 ms to free, on the thread that drives the lint.
        rayon::spawn(move || drop(piece));
    }
    let rest_entries: Vec<_> = held.collect();
    let finished = report
        .write_entries(&rest_entries, &mut spool)
        .and_then(|()| report.finish(!seen.recognised_any, &mut spool))
        .and_then(|totals| Ok((totals, spool.into_inner().map_err(|e| e.into_error())?)));
    Some(finished.map(|(totals, spool)| {
        InPieces::Spooled(Spooled {
            totals,
            spool,
            seen,
        })
    }))
}

/// What the pieces of a lint add up to, beside their findings.
#[derive(Default)]
struct Seen {
    recognised_any: bool,
    skipped: Vec<(PathBuf, String)>,
    /// A finding at or above `--fail-on`.
    failing: bool,
}

impl Seen {
    fn add(&mut self, args: &LintArgs, piece: &LintOutcome) {
        self.recognised_any |= piece.recognised_any;
        self.skipped.extend(piece.skipped.iter().cloned());
        self.failing |= failing(args, &piece.findings);
    }
}

/// Two runs of entries in report order, as one.
fn merge_sorted<'e>(
    first: Vec<&'e report::Entry<'e>>,
    second: &'e [report::Entry<'e>],
) -> Vec<&'e report::Entry<'e>> {
    let mut merged = Vec::with_capacity(first.len() + second.len());
    let mut second = second.iter().peekable();
    for entry in first {
        while let Some(next) = second.next_if(|next| report::report_order(next, entry).is_lt()) {
            merged.push(next);
        }
        merged.push(entry);
    }
    merged.extend(second);
    merged
}

/// Writes the report `write` makes to `--output-file` (replaced atomically) or to standard
/// output as it is made (a large report is not held whole first); nothing with `-q` when the
/// run is `clean` (see [`is_silent`]). `Err`: the exit code of a failure, already reported.
fn deliver(
    args: &LintArgs,
    clean: bool,
    mut write: impl FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), i32> {
    match &args.output_file {
        Some(path) => {
            let mut text = Vec::new();
            let written = write(&mut text).map_err(|e| e.to_string());
            written
                .and_then(|()| write_report(path, &text))
                .map_err(fail)
        }
        None if is_silent(args, clean) => Ok(()),
        None if print_out_with(write) => Ok(()),
        None => Err(EXIT_ERROR),
    }
}

/// Machine formats stay valid documents when nothing was recognised; the note goes to people,
/// on standard error.
fn note_nothing_recognised(args: &LintArgs, recognised_nothing: bool) {
    if recognised_nothing && args.format != Format::Human {
        print_err(&format!("note: {}\n", report::NOTHING_RECOGNISED));
    }
}

/// `-q`: a clean run prints nothing (machine formats are always written).
fn is_silent(args: &LintArgs, clean: bool) -> bool {
    quiet() && clean && matches!(args.format, Format::Human | Format::Concise)
}

fn note_skipped<'s>(skipped: impl IntoIterator<Item = &'s (PathBuf, String)>) {
    for (path, kind) in skipped {
        let path = path.strip_prefix(".").unwrap_or(path).display().to_string();
        print_err(&format!(
            "note: skipped {}: {kind}, not a regular file\n",
            crate::report::escape_line(&path)
        ));
    }
}

/// Whether a finding is at or above `--fail-on`.
fn failing(args: &LintArgs, findings: &[crate::finding::Finding]) -> bool {
    let threshold = args.fail_on.severity();
    findings.iter().any(|f| f.severity >= threshold)
}

fn exit_code(args: &LintArgs, failing: bool) -> i32 {
    if failing && !args.exit_zero {
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

#[cfg(test)]
mod tests;
