//! `concise`: one `path:line:col: CODE [severity] message` line per finding, for grep and editors.

use super::{Entry, Paint, ReportOptions, Tally, escape_control, escape_line, statistics_table};

pub(crate) fn write_entries(
    entries: &[&Entry<'_>],
    opts: &ReportOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let paint = Paint {
        enabled: opts.color,
    };
    let line = |entry: &&Entry<'_>| {
        let finding = entry.finding;
        let place = format!(
            "{}:{}:{}:",
            escape_line(&entry.at.path),
            entry.at.line,
            entry.at.column
        );
        format!(
            "{} {} {} {}\n",
            paint.bold(&place),
            paint.severity(finding.severity, finding.code),
            paint.severity(finding.severity, &format!("[{}]", finding.severity)),
            escape_control(&single_line(&finding.message)),
        )
    };
    super::write_rendered(entries, line, out)
}

/// The statistics, when asked for and there is a finding.
pub(crate) fn write_tail(
    tally: &Tally,
    opts: &ReportOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if opts.statistics && tally.counts.total() > 0 {
        out.write_all(statistics_table(&tally.statistics()).as_bytes())?;
    }
    Ok(())
}

/// A message on one line: line breaks would split a finding across records.
fn single_line(message: &str) -> String {
    message
        .split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
