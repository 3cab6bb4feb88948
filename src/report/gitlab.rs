//! `gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`), a JSON array.
//!
//! GitLab does not display `check_name`, so the description starts with the code and name.

use super::{Entry, Report};
use crate::finding::Severity;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

#[derive(Serialize)]
struct Issue {
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

pub(crate) fn render(report: &Report<'_>) -> String {
    let mut taken = HashSet::new();
    let issues: Vec<Issue> = report
        .entries
        .iter()
        .map(|entry| issue(entry, &mut taken))
        .collect();
    super::to_json_text(&issues)
}

fn issue(entry: &Entry<'_>, taken: &mut HashSet<String>) -> Issue {
    let finding = entry.finding;
    let description = match entry.name() {
        Some(name) => format!("{} {name}: {}", finding.code, finding.message),
        None => format!("{}: {}", finding.code, finding.message),
    };
    Issue {
        description,
        check_name: finding.code,
        fingerprint: unique_fingerprint(entry, taken),
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

/// sha256 (hex) of code, path, line, column and message. GitLab merges findings that share a
/// fingerprint, so an exact duplicate is salted with its occurrence number; findings are sorted
/// first, so the salt is stable.
fn unique_fingerprint(entry: &Entry<'_>, taken: &mut HashSet<String>) -> String {
    let base = format!(
        "{}\0{}\0{}\0{}\0{}",
        entry.finding.code, entry.at.path, entry.at.line, entry.at.column, entry.finding.message
    );
    let mut salt = 0_usize;
    loop {
        let input = if salt == 0 {
            base.clone()
        } else {
            format!("{base}\0{salt}")
        };
        let fingerprint = hex(&Sha256::digest(input.as_bytes()));
        if taken.insert(fingerprint.clone()) {
            return fingerprint;
        }
        salt += 1;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}
