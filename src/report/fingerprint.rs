//! Fingerprints that follow a finding across commits (GitLab `fingerprint`, SARIF
//! `partialFingerprints`): what identifies it, never where it is. A line inserted above a
//! finding moves it but keeps its fingerprint; changing the offending text makes a new one.

use super::{Entry, Report};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// One fingerprint per entry, in the report's order: sha256 (hex) of the rule, the file, the
/// message, the offending text and the whole lines it is on (its context, trimmed). Findings
/// that share all of these (the same text twice in one file) are numbered in file order, which
/// an insertion elsewhere does not change.
pub(crate) fn fingerprints(report: &Report<'_>) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    report
        .entries
        .iter()
        .map(|entry| {
            let base = identity(entry);
            let occurrence = seen.entry(base.clone()).or_insert(0);
            let input = format!("{base}\0{occurrence}");
            *occurrence += 1;
            hex(&Sha256::digest(input.as_bytes()))
        })
        .collect()
}

fn identity(entry: &Entry<'_>) -> String {
    let (offending, context) = entry
        .at
        .file
        .map_or((String::new(), String::new()), |file| {
            let text = &file.text;
            let span = entry.at.span;
            // An empty span at the start is about the whole file: its first line is no context.
            if span.start == 0 && span.end == 0 {
                return (String::new(), String::new());
            }
            let offending = text.get(span.start..span.end).unwrap_or_default();
            let line_start = text
                .get(..span.start)
                .and_then(|before| before.rfind('\n'))
                .map_or(0, |i| i + 1);
            let line_end = text
                .get(span.end..)
                .and_then(|after| after.find('\n'))
                .map_or(text.len(), |i| span.end + i);
            let context = text.get(line_start..line_end).unwrap_or_default();
            let context: Vec<&str> = context.lines().map(str::trim).collect();
            (offending.trim().to_string(), context.join("\n"))
        });
    format!(
        "{}\0{}\0{}\0{offending}\0{context}",
        entry.finding.code, entry.at.path, entry.finding.message
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
