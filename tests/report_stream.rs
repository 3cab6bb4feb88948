//! A report streamed piece by piece is, byte for byte, the report written at once: every
//! format, with and without statistics, whatever the pieces.

use serde_json::Value;
use std::path::{Path, PathBuf};
use talhorn::finding::{Finding, Severity};
use talhorn::report::{Counts, Format, ReportOptions, ReportStream, ReportTotals, RuleInfo, write};
use talhorn::source::{SourceMap, display_path};

/// Piece sizes, taken in turn until the findings run out; 0 is an empty piece.
const SPLITS: &[&[usize]] = &[
    &[1],
    &[2],
    &[3],
    &[7],
    &[usize::MAX],
    &[0, 5, 0, 1],
    &[300, 0],
];

struct Linted {
    root: PathBuf,
    sources: SourceMap,
    /// In report order, with repeats (see [`linted`]).
    findings: Vec<Finding>,
}

/// broken-homelab's findings seven times over (more than the reporters render at a time, and
/// the same finding several times in a file, which fingerprints number), plus a few once more
/// (so that codes differ in count), in report order.
fn linted() -> Linted {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos/broken-homelab");
    let config = talhorn::rules::LintConfig {
        root: root.clone(),
        ..talhorn::rules::LintConfig::default()
    };
    let outcome = talhorn::lint::lint_paths(std::slice::from_ref(&root), &config)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(outcome.findings.len() > 20, "broken-homelab has findings");
    let mut findings: Vec<Finding> = (0..7).flat_map(|_| outcome.findings.clone()).collect();
    findings.extend(outcome.findings.iter().step_by(3).cloned());
    let sources = outcome.sources;
    // Report order: path, then place, code, message and severity (see `report::sort_key`).
    findings.sort_by_cached_key(|finding| {
        let file = sources.get(finding.at.file);
        (
            display_path(&file.path, &root),
            finding.at.span.start,
            finding.code,
            finding.message.clone(),
            finding.severity,
            finding.at.span.end,
        )
    });
    Linted {
        root,
        sources,
        findings,
    }
}

fn rules() -> Vec<RuleInfo> {
    talhorn::rules::all_meta()
        .into_iter()
        .map(|meta| RuleInfo {
            code: meta.code,
            name: meta.name,
            severity: meta.severity,
            summary: meta.summary,
            docs: meta.docs,
            help_uri: Some(format!("https://example.org/rules/{}", meta.code)),
        })
        .collect()
}

fn options(root: &Path, statistics: bool, recognised_nothing: bool) -> ReportOptions {
    let mut opts = ReportOptions::new(root, "1.2.3");
    opts.information_uri = Some("https://example.org".into());
    opts.statistics = statistics;
    opts.recognised_nothing = recognised_nothing;
    opts
}

/// Every combination of options: `recognised_nothing` matters to human's summary only.
fn every_options(root: &Path) -> Vec<ReportOptions> {
    [(false, false), (false, true), (true, false), (true, true)]
        .into_iter()
        .map(|(statistics, nothing)| options(root, statistics, nothing))
        .collect()
}

fn written(
    format: Format,
    findings: &[Finding],
    sources: &SourceMap,
    opts: &ReportOptions,
) -> String {
    let mut bytes = Vec::new();
    write(format, findings, sources, &rules(), opts, &mut bytes).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// `findings` cut into pieces of `sizes`, in turn, until none is left.
fn pieces<'f>(findings: &'f [Finding], sizes: &[usize]) -> Vec<&'f [Finding]> {
    let mut pieces = Vec::new();
    let mut rest = findings;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at((*size).min(rest.len()));
        pieces.push(piece);
        rest = after;
    }
    pieces
}

/// The preamble and the streamed bytes of `pieces`. Whether anything was recognised is known
/// at the end of a stream only: the stream is made with the opposite in its options, which it
/// must not read.
fn streamed(
    format: Format,
    pieces: &[&[Finding]],
    sources: &SourceMap,
    opts: &ReportOptions,
) -> (ReportTotals, String) {
    let rules = rules();
    let mut bytes = Vec::new();
    let unknown_yet = ReportOptions {
        recognised_nothing: !opts.recognised_nothing,
        ..opts.clone()
    };
    let mut stream = ReportStream::new(format, &rules, &unknown_yet);
    for piece in pieces {
        stream
            .write_findings(piece, sources, &mut bytes)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let totals = stream
        .finish(opts.recognised_nothing, &mut bytes)
        .unwrap_or_else(|e| panic!("{e}"));
    (
        totals,
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn counts(findings: &[Finding]) -> Counts {
    let of = |severity| findings.iter().filter(|f| f.severity == severity).count();
    Counts {
        errors: of(Severity::Error),
        warnings: of(Severity::Warning),
        infos: of(Severity::Info),
    }
}

/// Asserts that `pieces` streamed give `expected`: GitHub's notices come in the preamble, to be
/// written first; the other formats have none. A JSON document is also exactly serde_json's
/// pretty printing of itself.
fn assert_streams_as(
    expected: &str,
    format: Format,
    pieces: &[&[Finding]],
    linted: &Linted,
    opts: &ReportOptions,
) {
    let (totals, bytes) = streamed(format, pieces, &linted.sources, opts);
    let all: Vec<Finding> = pieces.concat();
    let sizes: Vec<usize> = pieces.iter().map(|piece| piece.len()).collect();
    let context = format!(
        "{format:?}, statistics {}, sizes {sizes:?}",
        opts.statistics
    );
    assert_eq!(totals.counts, counts(&all), "{context}");
    if format != Format::Github {
        assert_eq!(totals.preamble, "", "{context}");
    }
    assert_eq!(totals.preamble + &bytes, expected, "{context}");
    if matches!(format, Format::Json | Format::Sarif | Format::Gitlab) {
        let value: Value =
            serde_json::from_str(&bytes).unwrap_or_else(|e| panic!("{context}: {e}"));
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_else(|e| panic!("{e}")) + "\n";
        assert_eq!(bytes, pretty, "{context}");
    }
}

#[test]
fn every_format_streamed_in_pieces_writes_what_write_writes() {
    let linted = linted();
    for format in Format::ALL {
        for opts in every_options(&linted.root) {
            let expected = written(format, &linted.findings, &linted.sources, &opts);
            for sizes in SPLITS {
                let pieces = pieces(&linted.findings, sizes);
                assert_streams_as(&expected, format, &pieces, &linted, &opts);
            }
        }
    }
}

#[test]
fn a_stream_without_findings_writes_what_write_writes() {
    let linted = linted();
    for format in Format::ALL {
        for opts in every_options(&linted.root) {
            let expected = written(format, &[], &linted.sources, &opts);
            assert_streams_as(&expected, format, &[], &linted, &opts);
            assert_streams_as(&expected, format, &[&[], &[]], &linted, &opts);
        }
    }
}

/// GitHub drops annotations past ten of a kind: the stream learns the counts only at its end,
/// so the notices saying so come back to be written before the annotations.
#[test]
fn github_notices_come_back_in_the_preamble() {
    let linted = linted();
    let opts = options(&linted.root, false, false);
    let (totals, bytes) = streamed(
        Format::Github,
        &pieces(&linted.findings, &[3]),
        &linted.sources,
        &opts,
    );
    assert!(totals.preamble.starts_with("::notice::talhorn reported "));
    assert!(
        totals
            .preamble
            .lines()
            .all(|line| line.starts_with("::notice::"))
    );
    assert!(!bytes.contains("::notice::talhorn reported "));
    for format in Format::ALL {
        let (totals, _) = streamed(format, &[&linted.findings[..10]], &linted.sources, &opts);
        assert_eq!(
            totals.preamble, "",
            "{format:?}: no more than ten of a kind"
        );
    }
}
