//! `concise`: one `path:line:col: CODE [severity] message` line per finding, for grep and editors.

use super::{Paint, Report, ReportOptions, escape_control, escape_line, statistics_table};

pub(crate) fn render(report: &Report<'_>, opts: &ReportOptions) -> String {
    let paint = Paint {
        enabled: opts.color,
    };
    let mut out = String::new();
    for entry in &report.entries {
        let finding = entry.finding;
        let place = format!(
            "{}:{}:{}:",
            escape_line(&entry.at.path),
            entry.at.line,
            entry.at.column
        );
        out.push_str(&format!(
            "{} {} {} {}\n",
            paint.bold(&place),
            paint.severity(finding.severity, finding.code),
            paint.severity(finding.severity, &format!("[{}]", finding.severity)),
            escape_control(&single_line(&finding.message)),
        ));
    }
    if opts.statistics && !report.entries.is_empty() {
        out.push_str(&statistics_table(&report.statistics()));
    }
    out
}

/// A message on one line: line breaks would split a finding across records.
fn single_line(message: &str) -> String {
    message
        .split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
