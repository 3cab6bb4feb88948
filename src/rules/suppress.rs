//! `# talhorn: ignore[CODE] reason` comments in YAML and Terraform files.
//!
//! A comment suppresses findings of the listed codes on its own line, or on the next line when it
//! stands alone. A reason is required. Comments that suppress nothing are reported as INT004.
//! `qm.conf` files take no comments (their `#` lines are the VM's notes): use `.talhorn.yaml`.

use super::LintConfig;
use super::structure::int004_unused_suppression::META as INT004;
use crate::finding::Finding;
use crate::source::{FileId, Location, SourceFile, SourceMap, Span};

const MARKER: &str = "talhorn: ignore[";

#[derive(Debug, Clone)]
struct Suppression {
    file: FileId,
    /// 1-based lines it covers.
    lines: Vec<usize>,
    codes: Vec<String>,
    at: Location,
    has_reason: bool,
}

fn takes_comments(path: &std::path::Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "tf" | "tfvars")
    )
}

/// Whether a file may hold suppression comments (its text must then be kept for the report).
pub fn has_comments(file: &SourceFile) -> bool {
    takes_comments(&file.path) && file.text.contains(MARKER)
}

fn parse_file(file: FileId, text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    // Every cluster of a run looks through every file: one search for the marker first, not
    // a look at each line, in the many files that have none.
    if !text.contains(MARKER) {
        return out;
    }
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        if let Some(hash) = line.find('#')
            && let Some(marker) = line[hash..].find(MARKER)
        {
            let start = hash + marker + MARKER.len();
            if let Some(close) = line[start..].find(']') {
                let codes = line[start..start + close]
                    .split(',')
                    .map(|c| c.trim().to_ascii_uppercase())
                    .filter(|c| !c.is_empty())
                    .collect();
                let reason = line[start + close + 1..].trim();
                let alone = line[..hash].trim().is_empty();
                let lines = if alone {
                    vec![line_no, line_no + 1]
                } else {
                    vec![line_no]
                };
                out.push(Suppression {
                    file,
                    lines,
                    codes,
                    at: Location::new(
                        file,
                        Span::new(offset + hash, offset + line.trim_end().len()),
                    ),
                    has_reason: !reason.is_empty(),
                });
            }
        }
        offset += line.len();
    }
    out
}

/// Every suppression comment in a run's files, found once: the clusters of a run share its
/// files, and looking through all of them again for each cluster costs a pass over every
/// file per cluster.
#[derive(Debug, Clone)]
pub struct Suppressions(Vec<Suppression>);

impl Suppressions {
    pub fn find(sources: &SourceMap) -> Self {
        Self(
            sources
                .iter()
                // The text first: most files' texts are not kept (empty), and a path's
                // extension is found by taking it apart.
                .filter(|(_, f)| f.text.contains(MARKER) && takes_comments(&f.path))
                .flat_map(|(id, f)| parse_file(id, &f.text))
                .collect(),
        )
    }

    /// The suppression that covers `finding`, if any.
    fn covering(&self, finding: &Finding, sources: &SourceMap) -> Option<usize> {
        let (line, _) = sources.get(finding.at.file).line_col(finding.at.span.start);
        self.0.iter().position(|s| {
            s.has_reason
                && s.file == finding.at.file
                && s.lines.contains(&line)
                && s.codes.iter().any(|c| c == finding.code)
        })
    }

    /// Which suppressions cover at least one of `findings`: those of every cluster of a run, so
    /// that a comment used in its own cluster is not "unused" in the others.
    pub fn used_by<'a>(
        &self,
        findings: impl IntoIterator<Item = &'a Finding>,
        sources: &SourceMap,
    ) -> Vec<bool> {
        let mut used = vec![false; self.0.len()];
        for finding in findings {
            if let Some(i) = self.covering(finding, sources) {
                used[i] = true;
            }
        }
        used
    }
}

/// Drops suppressed findings and adds INT004 for suppressions that matched nothing in the run
/// (`used`, from [`Suppressions::used_by`]) in the files the cluster `holds` (each cluster
/// reports its own files' comments, so the finding names a cluster the file is in);
/// `suppressions` are those of `sources` ([`Suppressions::find`]).
pub fn apply(
    findings: Vec<Finding>,
    sources: &SourceMap,
    config: &LintConfig,
    suppressions: &Suppressions,
    used: &[bool],
    holds: &dyn Fn(FileId) -> bool,
) -> Vec<Finding> {
    let mut kept: Vec<Finding> = findings
        .into_iter()
        .filter(|f| suppressions.covering(f, sources).is_none())
        .collect();
    let unused = suppressions
        .0
        .iter()
        .zip(used)
        .filter(|(s, used)| !**used && holds(s.at.file))
        .map(|(s, _)| s);
    if config.enabled_anywhere(INT004.code) {
        for s in unused {
            let config = config.for_file(sources.path(s.at.file));
            if !config.enabled(INT004.code) {
                continue;
            }
            let message = if !s.has_reason {
                format!(
                    "suppression of {} has no reason: write why after the bracket",
                    s.codes.join(", ")
                )
            } else if let Some(unknown) = s.codes.iter().find(|c| super::meta(c).is_none()) {
                format!("suppression names `{unknown}`, which is not a talhorn rule code")
            } else {
                format!(
                    "suppression of {} matched no finding: remove it",
                    s.codes.join(", ")
                )
            };
            if !config.ignored_at(INT004.code, sources, s.at) {
                kept.push(INT004.finding(s.at, message));
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_alone_covers_the_next_line() {
        let s = parse_file(
            FileId(0),
            "a: 1\n# talhorn: ignore[tal007] virtio disk\nb: 2 # talhorn: ignore[PVE001,PVE002] ok\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].lines, vec![2, 3]);
        assert_eq!(s[0].codes, vec!["TAL007"]);
        assert_eq!(s[1].lines, vec![3]);
        assert_eq!(s[1].codes, vec!["PVE001", "PVE002"]);
        assert!(s[1].has_reason);
    }

    #[test]
    fn a_missing_reason_is_recorded() {
        let s = parse_file(FileId(0), "b: 2 # talhorn: ignore[PVE001]\n");
        assert!(!s[0].has_reason);
    }
}
