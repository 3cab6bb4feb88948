//! `gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`), a JSON array.
//!
//! GitLab does not display `check_name`, so the description starts with the code and name.

use super::Entry;
use crate::finding::Severity;
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct Issue {
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

pub(crate) fn issue(entry: &Entry<'_>, fingerprint: String) -> Issue {
    let finding = entry.finding;
    let description = match entry.name() {
        Some(name) => format!("{} {name}: {}", finding.code, finding.message),
        None => format!("{}: {}", finding.code, finding.message),
    };
    Issue {
        description,
        check_name: finding.code,
        fingerprint,
        severity: severity(finding.severity),
        location: Location {
            path: entry.at.path.clone(),
            lines: Lines {
                begin: entry.at.line,
                end: entry.at.end_line,
            },
        },
    }
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}
