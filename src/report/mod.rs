//! Rendering findings: human, concise, json, sarif, github, gitlab.
//!
//! Every format is rendered from the same entries: findings resolved to relative paths and
//! 1-based line/column positions, sorted by path, line, column and code, so that output does
//! not depend on the order rules ran in. A [`ReportStream`] writes them as they come, piece by
//! piece; [`write()`] is one stream over all the findings.

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
use serde_json::value::RawValue;
use std::cmp::Ordering;
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
    write_parts(format, &[(findings, sources)], rules, opts, out)
}

/// [`write()`] of the findings of several lints, each with its own source map, as one report:
/// the entries of all of them merged in report order.
pub fn write_parts(
    format: Format,
    parts: &[(&[Finding], &SourceMap)],
    rules: &[RuleInfo],
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let reports: Vec<Report<'_>> = parts
        .iter()
        .map(|&(findings, sources)| Report::new(findings, sources, rules, opts))
        .collect();
    let mut entries: Vec<&Entry<'_>> = reports.iter().flat_map(|report| &report.entries).collect();
    if reports.len() > 1 {
        entries.sort_by(|a, b| report_order(a, b));
    }
    if format == Format::Github {
        // The whole report is known: its notices go first, where a stream's caller puts the
        // preamble the stream returns at its end.
        let mut counts = Counts::default();
        for entry in &entries {
            counts.add(entry.finding.severity);
        }
        out.write_all(github::overflow_notices(counts).as_bytes())?;
    }
    let mut stream = ReportStream::new(format, rules, opts);
    stream.write_entries(&entries, out)?;
    stream.finish(opts.recognised_nothing, out).map(drop)
}

/// A report written as its findings come: piece by piece, each piece in report order and after
/// every earlier piece, then the tail. The bytes are those of [`write()`] over all the pieces,
/// except that GitHub's notices, known only at the end, are [`ReportTotals::preamble`]: the
/// caller must put them before the streamed bytes.
///
/// Only counts are kept from one piece to the next, never the findings.
pub struct ReportStream<'r> {
    format: Format,
    opts: &'r ReportOptions,
    /// Rules sorted by code (SARIF lists them and points into the list).
    rules: Vec<&'r RuleInfo>,
    tally: Tally,
    fingerprints: fingerprint::Fingerprints,
    /// The findings array of a JSON format.
    array: JsonArray,
}

/// What a finished [`ReportStream`] counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportTotals {
    /// Findings per severity.
    pub counts: Counts,
    /// What must be written before everything else, known only at the end: GitHub's notices
    /// about the annotations it will drop; empty for the other formats.
    pub preamble: String,
}

impl<'r> ReportStream<'r> {
    pub fn new(format: Format, rules: &'r [RuleInfo], opts: &'r ReportOptions) -> Self {
        Self {
            format,
            opts,
            rules: sorted_rules(rules),
            tally: Tally::default(),
            fingerprints: fingerprint::Fingerprints::default(),
            array: JsonArray::default(),
        }
    }

    /// Resolves and sorts `findings` (as [`write()`] does) and writes them.
    pub fn write_findings(
        &mut self,
        findings: &[Finding],
        sources: &SourceMap,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let report = Report::resolve(findings, sources, &self.rules, self.opts);
        let entries: Vec<&Entry<'_>> = report.entries.iter().collect();
        self.write_entries(&entries, out)
    }

    /// Writes entries already resolved and sorted (the caller merges pieces from several
    /// source maps with [`report_order`]).
    pub(crate) fn write_entries(
        &mut self,
        entries: &[&Entry<'_>],
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        for entry in entries {
            self.tally.add(entry);
        }
        let head = || {
            around_array(self.format, &self.tally, &self.rules, self.opts).map(|(prefix, _)| prefix)
        };
        match self.format {
            Format::Human => human::write_entries(entries, self.opts, out),
            Format::Concise => concise::write_entries(entries, self.opts, out),
            Format::Github => github::write_entries(entries, out),
            Format::Json => self.array.write_items(head, entries, json::finding, out),
            Format::Sarif => {
                let fingerprinted = self.fingerprints.of(entries);
                let rules = &self.rules;
                let result = |(entry, fingerprint): &(&Entry<'_>, String)| {
                    sarif::result(entry, rules, fingerprint)
                };
                self.array.write_items(head, &fingerprinted, result, out)
            }
            Format::Gitlab => {
                let fingerprinted = self.fingerprints.of(entries);
                let issue = |(entry, fingerprint): &(&Entry<'_>, String)| {
                    gitlab::issue(entry, fingerprint.clone())
                };
                self.array.write_items(head, &fingerprinted, issue, out)
            }
        }
    }

    /// Writes the tail (statistics, summary, closing brackets). `recognised_nothing`: no file
    /// held anything talhorn checks (as [`ReportOptions::recognised_nothing`]).
    pub fn finish(
        mut self,
        recognised_nothing: bool,
        out: &mut dyn Write,
    ) -> std::io::Result<ReportTotals> {
        let counts = self.tally.counts;
        let mut preamble = String::new();
        match self.format {
            Format::Human => human::write_tail(&self.tally, self.opts, recognised_nothing, out)?,
            Format::Concise => concise::write_tail(&self.tally, self.opts, out)?,
            Format::Github => preamble = github::overflow_notices(counts),
            Format::Json | Format::Sarif | Format::Gitlab => {
                // With the final counts: the JSON summary follows the findings.
                let (head, tail) = around_array(self.format, &self.tally, &self.rules, self.opts)?;
                self.array.close(|| Ok(head), &tail, out)?;
            }
        }
        Ok(ReportTotals { counts, preamble })
    }
}

/// A JSON format's document as its text before and after the findings array, with the counts
/// so far.
fn around_array(
    format: Format,
    tally: &Tally,
    rules: &[&RuleInfo],
    opts: &ReportOptions,
) -> std::io::Result<(String, String)> {
    let marker = array_marker()?;
    match format {
        Format::Json => around_marker(&json::document(marker, tally, opts)),
        Format::Sarif => around_marker(&sarif::log(marker, rules, opts)),
        // GitLab's document is the array; the text formats have none.
        _ => around_marker(&marker),
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

/// Findings resolved and sorted in report order.
pub(crate) struct Report<'a> {
    pub entries: Vec<Entry<'a>>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(
        findings: &'a [Finding],
        sources: &'a SourceMap,
        rules: &'a [RuleInfo],
        opts: &ReportOptions,
    ) -> Self {
        Self::resolve(findings, sources, &sorted_rules(rules), opts)
    }

    /// [`Self::new`] with the rules already sorted by code.
    fn resolve(
        findings: &'a [Finding],
        sources: &'a SourceMap,
        sorted_rules: &[&'a RuleInfo],
        opts: &ReportOptions,
    ) -> Self {
        let files: Vec<&SourceFile> = sources.iter().map(|(_, file)| file).collect();
        let resolve = |file: FileId, span: Span| resolve(&files, file, span, &opts.root);
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
        entries.sort_by(report_order);
        Self { entries }
    }
}

fn sorted_rules(rules: &[RuleInfo]) -> Vec<&RuleInfo> {
    let mut sorted: Vec<&RuleInfo> = rules.iter().collect();
    sorted.sort_by_key(|rule| rule.code);
    sorted
}

/// The order of a report: entries of several reports merged by it are in report order.
pub(crate) fn report_order(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    sort_key(a).cmp(&sort_key(b))
}

/// Path, line, column and code decide the order; the rest only breaks ties so that output
/// never depends on the order rules ran in.
pub(crate) fn sort_key<'e>(
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
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }

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

/// What a report counts as its entries go by: per severity, and per code for `--statistics`.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub counts: Counts,
    by_code: BTreeMap<&'static str, CodeCount>,
}

impl Tally {
    fn add(&mut self, entry: &Entry<'_>) {
        let finding = entry.finding;
        self.counts.add(finding.severity);
        self.by_code
            .entry(finding.code)
            .or_insert_with(|| CodeCount {
                code: finding.code,
                name: entry.name(),
                count: 0,
            })
            .count += 1;
    }

    /// Findings per code, most frequent first, then by code.
    pub fn statistics(&self) -> Vec<CodeCount> {
        let mut counts: Vec<CodeCount> = self.by_code.values().cloned().collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
        counts
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

/// Stands for the findings array while a JSON document's head and tail are serialized: a string
/// with an upper-case escape, which serde_json never writes (it escapes in lower case, and a
/// backslash as `\\`), so no other text of the document can read like it.
const ARRAY_MARKER: &str = r#""\u001F""#;

fn array_marker() -> std::io::Result<&'static RawValue> {
    serde_json::from_str(ARRAY_MARKER).map_err(std::io::Error::other)
}

/// `document` as pretty JSON with a final newline, split where [`ARRAY_MARKER`] stands.
fn around_marker(document: &impl Serialize) -> std::io::Result<(String, String)> {
    let text = serde_json::to_string_pretty(document).map_err(std::io::Error::other)? + "\n";
    text.split_once(ARRAY_MARKER)
        .map(|(prefix, suffix)| (prefix.to_owned(), suffix.to_owned()))
        .ok_or_else(|| std::io::Error::other("the findings array is not in its document"))
}

/// A JSON array written item by item with the bytes serde_json's pretty printer gives the
/// whole array: each item is pretty-printed alone, on the workers a batch at a time, and
/// indented to its depth (two spaces a level; a string never holds a raw line break). It is
/// opened, after the document's head, when first written to.
#[derive(Default)]
struct JsonArray {
    /// The indent of the line the array opens on, where it closes; `None` until it is open.
    outer: Option<String>,
    /// Whether an item was written: an empty array is `[]`.
    has_items: bool,
}

impl JsonArray {
    /// Writes `make` of each item as the array's next items.
    fn write_items<'i, E: Sync, T: Serialize>(
        &mut self,
        head: impl FnOnce() -> std::io::Result<String>,
        items: &'i [E],
        make: impl Fn(&'i E) -> T + Sync,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let indent = format!("\n{}  ", self.open(head, out)?);
        let pretty = |item: &'i E| {
            serde_json::to_string_pretty(&make(item)).map(|text| text.replace('\n', &indent))
        };
        in_batches(items, pretty, |texts| {
            texts.into_iter().try_for_each(|text| {
                let separator = if self.has_items { "," } else { "" };
                self.has_items = true;
                write!(out, "{separator}{indent}{}", text?)
            })
        })
    }

    /// Closes the array and writes `tail`, the document after it.
    fn close(
        &mut self,
        head: impl FnOnce() -> std::io::Result<String>,
        tail: &str,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let outer = self.open(head, out)?;
        if self.has_items {
            write!(out, "\n{outer}")?;
        }
        out.write_all(b"]")?;
        out.write_all(tail.as_bytes())
    }

    /// Opens the array after `head()`, the document up to it, unless it is open; the indent
    /// it closes at.
    fn open(
        &mut self,
        head: impl FnOnce() -> std::io::Result<String>,
        out: &mut dyn Write,
    ) -> std::io::Result<String> {
        if let Some(outer) = &self.outer {
            return Ok(outer.clone());
        }
        let head = head()?;
        out.write_all(head.as_bytes())?;
        out.write_all(b"[")?;
        let line = head.rsplit('\n').next().unwrap_or_default();
        let outer = " ".repeat(line.len() - line.trim_start_matches(' ').len());
        self.outer = Some(outer.clone());
        Ok(outer)
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

    /// broken-homelab linted: its own source map each time.
    fn broken_homelab() -> (PathBuf, crate::lint::LintOutcome) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos/broken-homelab");
        let config = crate::rules::LintConfig {
            root: root.clone(),
            ..crate::rules::LintConfig::default()
        };
        let outcome = crate::lint::lint_paths(std::slice::from_ref(&root), &config)
            .unwrap_or_else(|e| panic!("{e}"));
        (root, outcome)
    }

    /// Two reports over two source maps, their entries merged in [`report_order`] and streamed
    /// in pieces, are written as one report over all their findings: the caller's way of
    /// streaming a lint done in batches. The second holds every other finding of the first
    /// again, so that fingerprints number identities across the two.
    #[test]
    fn merged_reports_stream_as_one_report() {
        let (root, first) = broken_homelab();
        let (_, second) = broken_homelab();
        let again: Vec<Finding> = second.findings.iter().step_by(2).cloned().collect();
        let all: Vec<Finding> = first.findings.iter().chain(&again).cloned().collect();
        let rules = crate::cli::rule_infos();
        for format in Format::ALL {
            for statistics in [false, true] {
                let mut opts = ReportOptions::new(&root, "1.2.3");
                opts.statistics = statistics;
                let mut expected = Vec::new();
                write(format, &all, &first.sources, &rules, &opts, &mut expected)
                    .unwrap_or_else(|e| panic!("{e}"));
                let reports = [
                    Report::new(&first.findings, &first.sources, &rules, &opts),
                    Report::new(&again, &second.sources, &rules, &opts),
                ];
                let mut merged: Vec<&Entry<'_>> = reports.iter().flat_map(|r| &r.entries).collect();
                merged.sort_by(|a, b| report_order(a, b));
                for size in [1, 2, 5, merged.len()] {
                    let mut stream = ReportStream::new(format, &rules, &opts);
                    let mut streamed = Vec::new();
                    for piece in merged.chunks(size) {
                        stream
                            .write_entries(piece, &mut streamed)
                            .unwrap_or_else(|e| panic!("{e}"));
                    }
                    let totals = stream
                        .finish(false, &mut streamed)
                        .unwrap_or_else(|e| panic!("{e}"));
                    let mut whole = totals.preamble.into_bytes();
                    whole.extend(streamed);
                    assert!(
                        whole == expected,
                        "{format:?}, statistics {statistics}, pieces of {size}"
                    );
                }
            }
        }
    }

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
