//! `human`: miette diagnostics with source snippets, then a summary line.
//!
//! Related locations in the finding's own file become extra labels on its snippet; those in
//! other files become related diagnostics, each with its own snippet.

use super::{Entry, Position, Report, ReportOptions, statistics_table};
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

pub(crate) fn render(report: &Report<'_>, opts: &ReportOptions) -> String {
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
    let mut out = String::new();
    for entry in &report.entries {
        let diagnostic = FindingDiagnostic::new(entry);
        if handler.render_report(&mut out, &diagnostic).is_err() {
            // Writing into a String cannot fail; keep the finding visible if miette ever does.
            out.push_str(&format!(
                "{}: {}\n",
                entry.finding.code, entry.finding.message
            ));
        }
        out.push('\n');
    }
    if opts.statistics && !report.entries.is_empty() {
        out.push_str(&statistics_table(&report.statistics()));
        out.push('\n');
    }
    out.push_str(&report.counts().summary_line());
    out.push('\n');
    out
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
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            None,
            source_span(&entry.at),
        )];
        let mut related = Vec::new();
        for other in &entry.related {
            if other.at.file.is_some() && other.at.path == entry.at.path {
                labels.push(LabeledSpan::new_with_span(
                    Some(other.message.to_owned()),
                    source_span(&other.at),
                ));
            } else {
                related.push(Self::related(&other.at, other.message));
            }
        }
        Self {
            header: Some(header),
            severity: miette_severity(finding.severity),
            message: with_path_if_no_snippet(&finding.message, &entry.at),
            help: finding.help.clone(),
            source: named_source(&entry.at),
            labels,
            related,
        }
    }

    fn related(at: &Position<'_>, message: &str) -> Self {
        Self {
            header: None,
            severity: miette::Severity::Advice,
            message: with_path_if_no_snippet(message, at),
            help: None,
            source: named_source(at),
            labels: vec![LabeledSpan::new_primary_with_span(None, source_span(at))],
            related: Vec::new(),
        }
    }
}

/// Without a snippet, miette shows no location: say where in the message instead.
fn with_path_if_no_snippet(message: &str, at: &Position<'_>) -> String {
    match at.file {
        Some(_) => message.to_owned(),
        None => format!("{message} (in {})", at.path),
    }
}

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn named_source(at: &Position<'_>) -> Option<NamedSource<String>> {
    at.file
        .map(|file| NamedSource::new(&at.path, file.text.clone()))
}

fn source_span(at: &Position<'_>) -> SourceSpan {
    SourceSpan::new(at.span.start.into(), at.span.len())
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
