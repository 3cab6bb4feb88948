//! `human`: miette diagnostics with source snippets, then a summary line.
//!
//! Related locations in the finding's own file become extra labels on its snippet; those in
//! other files become related diagnostics, each with its own snippet.

use super::escape::{EscapedText, escape_control, escape_line};
use super::{Entry, Position, ReportOptions, Tally, statistics_table};
use crate::finding::Severity;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
    SourceSpan,
};
use std::fmt;

/// Text is wrapped at this width unless the caller gives the terminal's, so output to a file or
/// a pipe is the same everywhere.
const WIDTH: usize = 100;
/// Narrower than this, snippets become unreadable.
const MIN_WIDTH: usize = 40;

/// Lines longer than this (in bytes) are not shown in a snippet; the message says where
/// instead. miette cannot underline past column 65,535, and a megabyte line helps nobody.
const MAX_SNIPPET_LINE: usize = 1_000;

pub(crate) fn write_entries(
    entries: &[&Entry<'_>],
    opts: &ReportOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width.map_or(WIDTH, |w| w.max(MIN_WIDTH)))
        .with_urls(false)
        .without_syntax_highlighting()
        .with_show_related_as_nested(true);
    // A batch of findings at a time, each rendered by miette on a worker, written in order.
    let render = |entry: &&Entry<'_>| {
        let mut text = String::new();
        let diagnostic = FindingDiagnostic::new(entry);
        if handler.render_report(&mut text, &diagnostic).is_err() {
            // Writing into a String cannot fail; keep the finding visible if miette ever does.
            text = format!(
                "{}: {}\n",
                entry.finding.code,
                escape_control(&entry.finding.message)
            );
        }
        text.push('\n');
        text
    };
    super::write_rendered(entries, render, out)
}

/// The statistics (when asked for and there is a finding) and the summary line.
pub(crate) fn write_tail(
    tally: &Tally,
    opts: &ReportOptions,
    recognised_nothing: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if opts.statistics && tally.counts.total() > 0 {
        writeln!(out, "{}", statistics_table(&tally.statistics()))?;
    }
    writeln!(out, "{}", tally.counts.run_summary(recognised_nothing))
}

/// A finding, or one of its related locations in another file, as a miette diagnostic.
#[derive(Debug)]
struct FindingDiagnostic {
    header: Option<String>,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<FindingDiagnostic>,
}

impl FindingDiagnostic {
    fn new(entry: &Entry<'_>) -> Self {
        let finding = entry.finding;
        let header = match entry.name() {
            Some(name) => format!("{}[{}] {}", finding.severity, finding.code, name),
            None => format!("{}[{}]", finding.severity, finding.code),
        };
        let snippet = Snippet::of(&entry.at);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            None,
            source_span(snippet.as_ref(), &entry.at),
        )];
        let mut related = Vec::new();
        for other in &entry.related {
            let same_file = other.at.file.is_some() && other.at.path == entry.at.path;
            if same_file && snippet.is_some() && fits_snippet(&other.at) {
                labels.push(LabeledSpan::new_with_span(
                    Some(escape_control(other.message).into_owned()),
                    source_span(snippet.as_ref(), &other.at),
                ));
            } else {
                related.push(Self::related(&other.at, other.message));
            }
        }
        Self {
            header: Some(header),
            severity: miette_severity(finding.severity),
            message: located_message(&finding.message, &entry.at, snippet.is_some()),
            help: finding
                .help
                .as_deref()
                .map(|h| escape_control(h).into_owned()),
            source: snippet.map(|s| s.source),
            labels,
            related,
        }
    }

    fn related(at: &Position<'_>, message: &str) -> Self {
        let snippet = Snippet::of(at);
        Self {
            header: None,
            severity: miette::Severity::Advice,
            message: located_message(message, at, snippet.is_some()),
            help: None,
            labels: vec![LabeledSpan::new_primary_with_span(
                None,
                source_span(snippet.as_ref(), at),
            )],
            source: snippet.map(|s| s.source),
            related: Vec::new(),
        }
    }
}

/// A file's text as miette shows it: control characters escaped, spans moved to match.
struct Snippet {
    source: NamedSource<String>,
    escaped: EscapedText,
}

impl Snippet {
    /// `None` when there is no file or the place is on a line too long to show.
    fn of(at: &Position<'_>) -> Option<Self> {
        let file = at.file.filter(|_| fits_snippet(at))?;
        let escaped = EscapedText::new(&file.text);
        let source = NamedSource::new(escape_line(&at.path), escaped.text.clone());
        Some(Self { source, escaped })
    }
}

/// Whether every line of the place, and the context line on either side, is short enough to
/// show.
fn fits_snippet(at: &Position<'_>) -> bool {
    let Some(file) = at.file else {
        return false;
    };
    let first = at.line.saturating_sub(1).max(1);
    let last = (at.end_line + 1).min(file.line_count());
    (first..=last).all(|line| file.line_span(line).len() <= MAX_SNIPPET_LINE)
}

/// The message, escaped; without a snippet, miette shows no location, so the message says
/// where.
fn located_message(message: &str, at: &Position<'_>, snippet: bool) -> String {
    let message = escape_control(message);
    let path = escape_line(&at.path);
    match (snippet, at.file) {
        (true, _) => message.into_owned(),
        (false, Some(_)) => format!("{message} (at {path}:{}:{})", at.line, at.column),
        (false, None) => format!("{message} (in {path})"),
    }
}

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn source_span(snippet: Option<&Snippet>, at: &Position<'_>) -> SourceSpan {
    let (start, end) = match snippet {
        Some(snippet) => (
            snippet.escaped.offset(at.span.start),
            snippet.escaped.offset(at.span.end),
        ),
        None => (at.span.start, at.span.end),
    };
    SourceSpan::new(start.into(), end - start)
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.header
            .as_ref()
            .map(|header| Box::new(header) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        // Without source code miette renders no snippet, so the labels are simply unused.
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related
                .iter()
                .map(|related| related as &dyn Diagnostic),
        ))
    }
}
