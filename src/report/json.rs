//! `json`: a stable document for scripts, described by `schemas/findings.schema.json`.
//!
//! Positions are 1-based; columns count characters; `endLine`/`endColumn` is the position just
//! after the last character (equal to the start for an empty span).

use super::{CodeCount, Entry, Position, ReportOptions, Tally};
use crate::finding::Severity;
use serde::Serialize;
use serde_json::value::RawValue;

/// Bump when a field changes meaning or disappears; adding a field does not bump it.
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
pub(crate) struct Document<'a> {
    version: u32,
    findings: &'a RawValue,
    summary: Summary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JsonFinding<'a> {
    code: &'static str,
    name: Option<&'static str>,
    severity: Severity,
    message: &'a str,
    #[serde(flatten)]
    at: JsonPosition<'a>,
    related: Vec<JsonRelated<'a>>,
    help: Option<&'a str>,
    /// The cluster the finding belongs to (`null` outside `lint`).
    cluster: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPosition<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    #[serde(flatten)]
    at: JsonPosition<'a>,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    total: usize,
    /// Only with `--statistics`.
    #[serde(skip_serializing_if = "Option::is_none")]
    by_code: Option<Vec<CodeCount>>,
}

/// The document with `findings` standing for the findings array, summing up `tally`.
pub(crate) fn document<'a>(
    findings: &'a RawValue,
    tally: &Tally,
    opts: &ReportOptions,
) -> Document<'a> {
    let counts = tally.counts;
    Document {
        version: FORMAT_VERSION,
        findings,
        summary: Summary {
            errors: counts.errors,
            warnings: counts.warnings,
            infos: counts.infos,
            total: counts.total(),
            by_code: opts.statistics.then(|| tally.statistics()),
        },
    }
}

pub(crate) fn finding<'a>(entry: &'a &Entry<'_>) -> JsonFinding<'a> {
    JsonFinding {
        code: entry.finding.code,
        name: entry.name(),
        severity: entry.finding.severity,
        message: &entry.finding.message,
        at: position(&entry.at),
        related: entry
            .related
            .iter()
            .map(|related| JsonRelated {
                at: position(&related.at),
                message: related.message,
            })
            .collect(),
        help: entry.finding.help.as_deref(),
        cluster: entry.finding.cluster.as_deref(),
    }
}

fn position<'a>(at: &'a Position<'_>) -> JsonPosition<'a> {
    JsonPosition {
        path: &at.path,
        line: at.line,
        column: at.column,
        end_line: at.end_line,
        end_column: at.end_column,
    }
}
