//! Fingerprints that follow a finding across commits (GitLab `fingerprint`, SARIF
//! `partialFingerprints`): what identifies it, never where it is. A line inserted above a
//! finding moves it but keeps its fingerprint; changing the offending text makes a new one.

use super::Entry;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Fingerprints in the report's order: sha256 (hex) of the rule, the file, the message, the
/// offending text and the whole lines it is on (its context, trimmed). Findings that share all
/// of these (the same text twice in one file) are numbered in file order, which an insertion
/// elsewhere does not change.
///
/// The identity holds the file's path and entries come sorted by path, so only the current
/// path's identities are counted: a stream of findings needs no more memory than one file's.
#[derive(Debug, Default)]
pub(crate) struct Fingerprints {
    path: String,
    seen: HashMap<String, usize>,
}

impl Fingerprints {
    /// Each entry with its fingerprint, numbered after those of the earlier entries.
    pub fn of<'e, 'a>(&mut self, entries: &[&'e Entry<'a>]) -> Vec<(&'e Entry<'a>, String)> {
        entries
            .iter()
            .map(|entry| (*entry, self.next(entry)))
            .collect()
    }

    fn next(&mut self, entry: &Entry<'_>) -> String {
        if entry.at.path != self.path {
            self.path.clone_from(&entry.at.path);
            self.seen.clear();
        }
        let base = identity(entry);
        let occurrence = self.seen.entry(base.clone()).or_insert(0);
        let input = format!("{base}\0{occurrence}");
        *occurrence += 1;
        hex(&Sha256::digest(input.as_bytes()))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Severity};
    use crate::report::{Report, ReportOptions};
    use crate::source::{Location, SourceFile, SourceMap, Span};

    /// The same offending line twice in each of two files: two identities, each found twice.
    fn twice_in_two_files() -> (SourceMap, Vec<Finding>) {
        let text = "cpu: kvm64\nname: a\ncpu: kvm64\n";
        let mut sources = SourceMap::default();
        let files = [
            sources.add(SourceFile::new("/repo/b.conf", text)),
            sources.add(SourceFile::new("/repo/a.conf", text)),
        ];
        let findings = files
            .into_iter()
            .flat_map(|file| {
                text.match_indices("kvm64").map(move |(start, cpu)| {
                    let at = Location::new(file, Span::new(start, start + cpu.len()));
                    Finding::new("PVE001", Severity::Error, at, "cpu kvm64 lacks x86-64-v2")
                })
            })
            .collect();
        (sources, findings)
    }

    /// Counting identities only within the current path numbers them as counting them over the
    /// whole report does, whatever the pieces the entries come in.
    #[test]
    fn numbering_within_each_path_is_numbering_over_the_report() {
        let (sources, findings) = twice_in_two_files();
        let opts = ReportOptions::new("/repo", "0");
        let report = Report::new(&findings, &sources, &[], &opts);
        let entries: Vec<&Entry<'_>> = report.entries.iter().collect();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let expected: Vec<String> = entries
            .iter()
            .map(|entry| {
                let base = identity(entry);
                let occurrence = seen.entry(base.clone()).or_insert(0);
                *occurrence += 1;
                hex(&Sha256::digest(format!("{base}\0{}", *occurrence - 1)))
            })
            .collect();
        assert_eq!(seen.len(), 2, "two identities");
        assert!(seen.values().all(|&count| count == 2), "each found twice");
        let mut unique = expected.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 4, "numbered apart");
        for size in 1..=entries.len() {
            let mut fingerprints = Fingerprints::default();
            let got: Vec<String> = entries
                .chunks(size)
                .flat_map(|piece| fingerprints.of(piece))
                .map(|(_, fingerprint)| fingerprint)
                .collect();
            assert_eq!(got, expected, "pieces of {size}");
        }
    }
}
