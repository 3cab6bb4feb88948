//! `github`: GitHub Actions workflow commands, which become annotations on the changed files.
//!
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE name::message`, with
//! `warning` and `notice` (for info). Escaping follows actions/toolkit's `escapeData` and
//! `escapeProperty`, after control characters from the input are made visible (an ESC would
//! colour the log, a carriage return hide a line).

use super::{Counts, Entry, escape_control};
use crate::finding::Severity;
use std::fmt::Write as _;

/// GitHub shows at most this many annotations of each type per step and drops the rest
/// silently (actions/toolkit#734).
const ANNOTATIONS_PER_TYPE: usize = 10;

pub(crate) fn write_entries(
    entries: &[&Entry<'_>],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    super::write_rendered(entries, |entry| command(entry) + "\n", out)
}

fn command(entry: &Entry<'_>) -> String {
    let finding = entry.finding;
    let title = match entry.name() {
        Some(name) => format!("{} {name}", finding.code),
        None => finding.code.to_owned(),
    };
    let properties = [
        ("file", entry.at.path.clone()),
        ("line", entry.at.line.to_string()),
        ("col", entry.at.column.to_string()),
        ("endLine", entry.at.end_line.to_string()),
        ("endColumn", entry.at.end_column.to_string()),
        ("title", title),
    ]
    .iter()
    .map(|(key, value)| format!("{key}={}", escape_property(value)))
    .collect::<Vec<_>>()
    .join(",");
    format!(
        "::{} {properties}::{}",
        command_name(finding.severity),
        escape_data(&message(entry))
    )
}

/// The message, then each related place, then the fix: an annotation can span several lines.
fn message(entry: &Entry<'_>) -> String {
    let mut message = entry.finding.message.clone();
    for related in &entry.related {
        let at = &related.at;
        let _ = write!(
            message,
            "\nrelated: {}:{}:{}: {}",
            at.path, at.line, at.column, related.message
        );
    }
    if let Some(help) = &entry.finding.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    message
}

fn command_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// Notices about the annotations GitHub will drop, given the report's counts. They must come
/// first: a notice after ten others would itself be dropped.
pub(crate) fn overflow_notices(counts: Counts) -> String {
    let mut out = String::new();
    for (severity, count) in [
        (Severity::Error, counts.errors),
        (Severity::Warning, counts.warnings),
        (Severity::Info, counts.infos),
    ] {
        if count > ANNOTATIONS_PER_TYPE {
            let kind = command_name(severity);
            let text = format!(
                "talhorn reported {count} {kind} findings, but GitHub shows at most \
                 {ANNOTATIONS_PER_TYPE} {kind} annotations per step, so {} are not annotated. \
                 This step's log lists all of them; to see them all in the code view, upload \
                 `talhorn lint --format sarif` to code scanning.",
                count - ANNOTATIONS_PER_TYPE
            );
            let _ = writeln!(out, "::notice::{}", escape_data(&text));
        }
    }
    out
}

/// actions/toolkit `escapeData`: the message after `::`. Line breaks survive as `%0A`.
fn escape_data(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    escape_control(&text)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// actions/toolkit `escapeProperty`: a `key=value` property, where `:` and `,` are separators.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_actions_toolkit() {
        assert_eq!(escape_data("50%,a:b\rx\nc"), "50%25,a:b\\x0dx%0Ac");
        assert_eq!(escape_property("50%,a:b\nc"), "50%25%2Ca%3Ab%0Ac");
    }

    #[test]
    fn control_characters_from_input_are_shown_not_acted_on() {
        assert_eq!(escape_data("a\u{1b}[2Jb\r\nc"), "a\\x1b[2Jb%0Ac");
        assert_eq!(escape_property("x\u{1b}y\nz"), "x\\x1by%0Az");
    }
}
