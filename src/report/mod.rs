//! Rendering findings: human, concise, json, sarif, github, gitlab.
//!
//! Every format is rendered from the same [`Report`]: findings resolved to relative paths and
//! 1-based line/column positions, sorted by path, line, column and code, so that output does
//! not depend on the order rules ran in.

pub mod concise;
mod escape;
mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;

pub(crate) use crate::source::display_path;
pub use escape::{escape_control, escape_line};

use crate::finding::{Finding, Severity};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An output format of `talhorn lint --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with source snippets, for people at a terminal.
    Human,
    /// One `path:line:col: CODE [severity] message` line per finding.
    Concise,
    /// A stable JSON document, described by `schemas/findings.schema.json`.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// GitLab Code Quality report.
    Gitlab,
}

impl Format {
    pub const ALL: [Self; 6] = [
        Self::Human,
        Self::Concise,
        Self::Json,
        Self::Sarif,
        Self::Github,
        Self::Gitlab,
    ];
}

/// What the reporters need to know about a rule (the caller builds it from the rule registry).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleInfo {
    /// Stable code: `PVE001`.
    pub code: &'static str,
    /// Kebab-case name: `cpu-lacks-x86-64-v2`.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what it checks.
    pub summary: &'static str,
    /// Markdown with the sections `## What`, `## Why`, `## Example`, `## Fix`, `## Source`.
    pub docs: &'static str,
    /// Where the rule's documentation page lives, when there is one.
    pub help_uri: Option<String>,
}

/// How to render.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Emit ANSI colours (only `human` and `concise` use colour).
    pub color: bool,
    /// The directory paths are shown relative to (the repository root). Absolute source paths
    /// under it are made relative; relative source paths are taken as already relative to it.
    pub root: PathBuf,
    /// The talhorn version, for SARIF's `tool.driver`.
    pub tool_version: String,
    /// SARIF `tool.driver.informationUri`; omitted when unknown.
    pub information_uri: Option<String>,
    /// Append a count per code (`--statistics`).
    pub statistics: bool,
    /// No file held anything talhorn checks: say so instead of "All checks passed."
    pub recognised_nothing: bool,
    /// Wrap human output at this width (the terminal's); `None`: a fixed width.
    pub width: Option<usize>,
}

impl ReportOptions {
    /// Options without colour or statistics.
    pub fn new(root: impl Into<PathBuf>, tool_version: impl Into<String>) -> Self {
        Self {
            color: false,
            root: root.into(),
            tool_version: tool_version.into(),
            information_uri: None,
            statistics: false,
            recognised_nothing: false,
            width: None,
        }
    }
}

/// Render `findings` in `format`. The result ends with a newline unless it is empty.
pub fn render(
    format: Format,
    findings: &[Finding],
    sources: &SourceMap,
    rules: &[RuleInfo],
    opts: &ReportOptions,
) -> String {
    let mut bytes = Vec::new();
    // Writing into a `Vec` cannot fail, and every format writes UTF-8.
    let _ = write(format, findings, sources, rules, opts, &mut bytes);
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render`] into `out` as the report is made, finding by finding: a large report is not held
/// in memory whole before it is written.
pub fn write(
    format: Format,
    findings: &[Finding],
    sources: &SourceMap,
    rules: &[RuleInfo],
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let report = Report::new(findings, sources, rules, opts);
    match format {
        Format::Human => human::write(&report, opts, out),
        Format::Concise => concise::write(&report, opts, out),
        Format::Json => json::write(&report, opts, out),
        Format::Sarif => sarif::write(&report, opts, out),
        Format::Github => github::write(&report, out),
        Format::Gitlab => gitlab::write(&report, out),
    }
}

/// A place resolved for display: relative path and 1-based positions.
///
/// The end is exclusive (the position just after the last character), as in SARIF regions;
/// an empty span has its end equal to its start.
#[derive(Clone, Debug)]
pub(crate) struct Position<'a> {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The file, when the location's `FileId` is in the source map.
    pub file: Option<&'a SourceFile>,
    /// The span clamped to the file's text and to character boundaries.
    pub span: Span,
}

/// A related location, resolved.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedRelated<'a> {
    pub at: Position<'a>,
    pub message: &'a str,
}

/// A finding with everything a reporter needs.
#[derive(Clone, Debug)]
pub(crate) struct Entry<'a> {
    pub finding: &'a Finding,
    pub at: Position<'a>,
    pub related: Vec<ResolvedRelated<'a>>,
    pub rule: Option<&'a RuleInfo>,
}

impl Entry<'_> {
    pub fn name(&self) -> Option<&'static str> {
        self.rule.map(|rule| rule.name)
    }
}

/// Findings sorted and resolved, plus the rule table.
pub(crate) struct Report<'a> {
    pub entries: Vec<Entry<'a>>,
    /// Rules sorted by code.
    pub rules: Vec<&'a RuleInfo>,
}

impl<'a> Report<'a> {
    fn new(
        findings: &'a [Finding],
        sources: &'a SourceMap,
        rules: &'a [RuleInfo],
        opts: &ReportOptions,
    ) -> Self {
        let files: Vec<&SourceFile> = sources.iter().map(|(_, file)| file).collect();
        let resolve = |file: FileId, span: Span| resolve(&files, file, span, &opts.root);
        let mut sorted_rules: Vec<&RuleInfo> = rules.iter().collect();
        sorted_rules.sort_by_key(|rule| rule.code);
        // Each finding is resolved on its own (its place's line and column): on the workers.
        let mut entries: Vec<Entry<'a>> = crate::yaml::on_workers(|| {
            findings
                .par_iter()
                .map(|finding| Entry {
                    finding,
                    at: resolve(finding.at.file, finding.at.span),
                    related: finding
                        .related
                        .iter()
                        .map(|related| ResolvedRelated {
                            at: resolve(related.at.file, related.at.span),
                            message: &related.message,
                        })
                        .collect(),
                    rule: sorted_rules
                        .binary_search_by_key(&finding.code, |rule| rule.code)
                        .ok()
                        .and_then(|index| sorted_rules.get(index).copied()),
                })
                .collect()
        });
        entries.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        Self {
            entries,
            rules: sorted_rules,
        }
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for entry in &self.entries {
            match entry.finding.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Info => counts.infos += 1,
            }
        }
        counts
    }

    /// Findings per code, most frequent first, then by code.
    pub fn statistics(&self) -> Vec<CodeCount> {
        let mut by_code: BTreeMap<&'static str, CodeCount> = BTreeMap::new();
        for entry in &self.entries {
            by_code
                .entry(entry.finding.code)
                .or_insert_with(|| CodeCount {
                    code: entry.finding.code,
                    name: entry.name(),
                    count: 0,
                })
                .count += 1;
        }
        let mut counts: Vec<CodeCount> = by_code.into_values().collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
        counts
    }
}

/// Path, line, column and code decide the order; the rest only breaks ties so that output
/// never depends on the order rules ran in.
fn sort_key<'e>(
    entry: &'e Entry<'_>,
) -> (
    &'e str,
    usize,
    usize,
    &'static str,
    &'e str,
    Severity,
    usize,
    usize,
) {
    (
        &entry.at.path,
        entry.at.line,
        entry.at.column,
        entry.finding.code,
        &entry.finding.message,
        entry.finding.severity,
        entry.at.end_line,
        entry.at.end_column,
    )
}

/// Number of findings per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn total(self) -> usize {
        self.errors + self.warnings + self.infos
    }

    /// `Found 3 errors, 1 warning, 0 infos.` or `All checks passed.`
    pub fn summary_line(self) -> String {
        if self.total() == 0 {
            return "All checks passed.".to_owned();
        }
        format!(
            "Found {}, {}, {}.",
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
            plural(self.infos, "info")
        )
    }

    /// The summary of a run: as [`Self::summary_line`], except that a run that recognised no
    /// file says so (nothing passed: nothing was checked).
    pub fn run_summary(self, recognised_nothing: bool) -> String {
        if self.total() == 0 && recognised_nothing {
            return NOTHING_RECOGNISED.to_owned();
        }
        self.summary_line()
    }
}

/// What a run that recognised no file says.
pub const NOTHING_RECOGNISED: &str = "No file was recognised, so nothing was checked: talhorn reads intents, qm.conf, storage.cfg, interfaces, Terraform/OpenTofu, talhelper talconfig.yaml, Talos configs, schematics, Longhorn/Cilium values and manifests (see `talhorn lint --show-files`).";

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// One row of `--statistics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct CodeCount {
    pub code: &'static str,
    pub name: Option<&'static str>,
    pub count: usize,
}

/// The `--statistics` table: right-aligned count, code, rule name.
pub(crate) fn statistics_table(rows: &[CodeCount]) -> String {
    let count_width = rows
        .iter()
        .map(|row| row.count.to_string().len())
        .max()
        .unwrap_or(1);
    let code_width = rows.iter().map(|row| row.code.len()).max().unwrap_or(0);
    let mut table = String::new();
    for row in rows {
        let line = format!(
            "{:>count_width$}  {:<code_width$}  {}",
            row.count,
            row.code,
            row.name.unwrap_or("")
        );
        let _ = writeln!(table, "{}", line.trim_end());
    }
    table
}

fn resolve<'a>(files: &[&'a SourceFile], id: FileId, span: Span, root: &Path) -> Position<'a> {
    let Some(file) = usize::try_from(id.0)
        .ok()
        .and_then(|index| files.get(index).copied())
    else {
        // A finding that points outside the source map is a bug in a rule; still render it.
        return Position {
            path: format!("<unknown file #{}>", id.0),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            file: None,
            span: Span::at(0),
        };
    };
    let span = clamp_span(&file.text, span);
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    Position {
        path: display_path(&file.path, root),
        line,
        column,
        end_line,
        end_column,
        file: Some(file),
        span,
    }
}

/// Keep a span inside the text and on character boundaries, so slicing and snippets never fail.
fn clamp_span(text: &str, span: Span) -> Span {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    if span.end <= span.start {
        return Span::at(start);
    }
    // An end inside a character takes in the whole character.
    let mut end = span.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(start, end)
}

/// How many findings are rendered at a time, on the workers, before they are written: the
/// report is made in parallel but never held whole.
const RENDER_BATCH: usize = 256;

/// How many findings of a batch a worker renders in one go: small, so that no worker waits
/// long for another at the end of a batch.
const RENDER_PIECE: usize = 8;

/// Writes `render(item)` for each item, in order, rendering a batch at a time on the workers.
pub(crate) fn write_rendered<T: Sync>(
    items: &[T],
    render: impl Fn(&T) -> String + Sync,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    in_batches(items, render, |texts| {
        texts
            .iter()
            .try_for_each(|text| out.write_all(text.as_bytes()))
    })
}

/// `make` of every item, made [`RENDER_BATCH`] at a time on the workers and handed to `take`
/// batch by batch, in order.
fn in_batches<'i, T: Sync, R: Send, E>(
    items: &'i [T],
    make: impl Fn(&'i T) -> R + Sync,
    mut take: impl FnMut(Vec<R>) -> Result<(), E>,
) -> Result<(), E> {
    for batch in items.chunks(RENDER_BATCH) {
        let made = crate::yaml::on_workers(|| {
            batch
                .par_iter()
                .with_max_len(RENDER_PIECE)
                .map(&make)
                .collect()
        });
        take(made)?;
    }
    Ok(())
}

/// A JSON array whose items are made and serialized on the workers, a batch at a time, then
/// written in order: the same bytes as serializing them in the array (each item is
/// pretty-printed alone and indented by `depth`, the number of containers around the array's
/// items, since pretty JSON indents two spaces a level and a string never holds a raw line
/// break). serde_json takes each back as a raw value, which it checks by parsing it again:
/// about 1.5 % of a large lint's instructions, paid for the report no longer being one
/// thread's work. Only a batch of items is ever made at once.
pub(crate) struct PrettyItems<'i, E, T> {
    pub items: &'i [E],
    /// What each item is serialized as.
    pub make: fn(&'i E) -> T,
    pub depth: usize,
}

impl<'i, E: Sync, T: Serialize> Serialize for PrettyItems<'i, E, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let indent = format!("\n{}", "  ".repeat(self.depth));
        let pretty = |item: &'i E| {
            let text = serde_json::to_string_pretty(&(self.make)(item))?.replace('\n', &indent);
            serde_json::value::RawValue::from_string(text)
        };
        let mut seq = serializer.serialize_seq(Some(self.items.len()))?;
        in_batches(self.items, pretty, |rendered| {
            rendered
                .into_iter()
                .try_for_each(|item| seq.serialize_element(&item.map_err(S::Error::custom)?))
        })?;
        seq.end()
    }
}

/// Pretty JSON with a final newline, written to `out` as it is made.
pub(crate) fn write_json(value: &impl Serialize, out: &mut dyn Write) -> std::io::Result<()> {
    match serde_json::to_writer_pretty(&mut *out, value) {
        Ok(()) => out.write_all(b"\n"),
        Err(error) if error.is_io() => Err(error.into()),
        // Only non-string map keys or a failing `Serialize` impl can get here; neither exists
        // in the report types.
        Err(error) => writeln!(out, "{}", serde_json::json!({ "error": error.to_string() })),
    }
}

/// ANSI styling for the hand-written text formats.
pub(crate) struct Paint {
    pub enabled: bool,
}

impl Paint {
    pub fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    pub fn severity(&self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.wrap(code, text)
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_path_is_relative_to_root_with_forward_slashes() {
        let root = Path::new("/repo");
        assert_eq!(
            display_path(Path::new("/repo/vms/101.conf"), root),
            "vms/101.conf"
        );
        assert_eq!(
            display_path(Path::new("./talos/cp.yaml"), root),
            "talos/cp.yaml"
        );
        assert_eq!(
            display_path(Path::new("/elsewhere/x.yaml"), root),
            "/elsewhere/x.yaml"
        );
    }

    #[test]
    fn clamp_span_stays_inside_text_and_on_char_boundaries() {
        let text = "aç";
        // Byte 2 is inside 'ç' (bytes 1..3).
        assert_eq!(clamp_span(text, Span::new(2, 2)), Span::new(1, 1));
        assert_eq!(clamp_span(text, Span::new(0, 2)), Span::new(0, 3));
        assert_eq!(clamp_span(text, Span::new(10, 20)), Span::new(3, 3));
        assert_eq!(clamp_span(text, Span::new(2, 0)), Span::new(1, 1));
    }

    #[test]
    fn summary_line_pluralises_each_count() {
        let counts = Counts {
            errors: 3,
            warnings: 1,
            infos: 0,
        };
        assert_eq!(counts.summary_line(), "Found 3 errors, 1 warning, 0 infos.");
        assert_eq!(Counts::default().summary_line(), "All checks passed.");
        assert_eq!(Counts::default().run_summary(true), NOTHING_RECOGNISED);
        assert_eq!(counts.run_summary(true), counts.summary_line());
    }
}
