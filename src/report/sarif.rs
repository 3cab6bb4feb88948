//! `sarif`: SARIF 2.1.0, shaped the way GitHub code scanning reads it.
//!
//! One run; `tool.driver.rules` lists every rule the caller passed (sorted by code) so that
//! `ruleIndex` points into it; artifact URIs are relative to `%SRCROOT%` (the report root,
//! described but never written out: the report must not carry the absolute path of the machine
//! it ran on); each result has a line-independent `partialFingerprints` entry;
//! columns count Unicode code points (`columnKind: unicodeCodePoints`).

use super::{Entry, Position, ReportOptions, RuleInfo};
use crate::finding::Severity;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::path::Path;

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// Our key in `partialFingerprints` (versioned: a new scheme gets a new key).
const PARTIAL_FINGERPRINT: &str = "talhorn/v1";
/// GitHub code scanning truncates descriptions longer than this.
const MAX_DESCRIPTION_CHARS: usize = 1024;

/// The log with `results` standing for the results array; `rules` sorted by code.
pub(crate) fn log<'a>(results: &'a RawValue, rules: &[&RuleInfo], opts: &ReportOptions) -> Log<'a> {
    Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: json!({ "driver": driver(rules, opts) }),
            original_uri_base_ids: json!({ SRCROOT: {
                "description": { "text": "The directory talhorn was run in." }
            } }),
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

/// The SARIF log: one run.
#[derive(Serialize)]
pub(crate) struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Value,
    original_uri_base_ids: Value,
    column_kind: &'static str,
    results: &'a RawValue,
}

fn driver(rules: &[&RuleInfo], opts: &ReportOptions) -> Value {
    let mut driver = Map::new();
    driver.insert("name".into(), json!("talhorn"));
    driver.insert("version".into(), json!(opts.tool_version));
    driver.insert("semanticVersion".into(), json!(opts.tool_version));
    if let Some(uri) = &opts.information_uri {
        driver.insert("informationUri".into(), json!(uri));
    }
    driver.insert(
        "rules".into(),
        rules.iter().map(|rule| descriptor(rule)).collect(),
    );
    Value::Object(driver)
}

fn descriptor(rule: &RuleInfo) -> Value {
    let mut descriptor = json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": { "text": truncate(rule.summary) },
        "fullDescription": { "text": full_description(rule) },
        "help": {
            "text": if rule.docs.trim().is_empty() { rule.summary } else { rule.docs },
            "markdown": if rule.docs.trim().is_empty() { rule.summary } else { rule.docs },
        },
        "defaultConfiguration": { "level": level(rule.severity) },
    });
    if let (Some(uri), Some(object)) = (&rule.help_uri, descriptor.as_object_mut()) {
        object.insert("helpUri".into(), json!(uri));
    }
    descriptor
}

/// The rule's `## What` and `## Why` sections as one paragraph, or its summary.
fn full_description(rule: &RuleInfo) -> String {
    let text = ["What", "Why"]
        .iter()
        .filter_map(|heading| section(rule.docs, heading))
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        truncate(rule.summary)
    } else {
        truncate(&text)
    }
}

/// The body of the markdown section `## heading`, on one line.
fn section(docs: &str, heading: &str) -> Option<String> {
    let mut lines = docs.lines().skip_while(|line| {
        line.strip_prefix("## ")
            .is_none_or(|title| title.trim() != heading)
    });
    lines.next()?;
    let body = lines
        .take_while(|line| !line.starts_with("## "))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ");
    (!body.is_empty()).then_some(body)
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(MAX_DESCRIPTION_CHARS - 1).collect();
    short.push('…');
    short
}

/// One result; `rules` sorted by code, as the driver lists them.
pub(crate) fn result(entry: &Entry<'_>, rules: &[&RuleInfo], fingerprint: &str) -> Value {
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(entry.finding.code));
    if let Some(index) = rules
        .iter()
        .position(|rule| rule.code == entry.finding.code)
    {
        result.insert("ruleIndex".into(), json!(index));
    }
    result.insert("level".into(), json!(level(entry.finding.severity)));
    result.insert("message".into(), json!({ "text": message(entry) }));
    result.insert(
        "locations".into(),
        json!([{ "physicalLocation": physical_location(&entry.at) }]),
    );
    // Code scanning matches results across commits by this, not by line numbers.
    result.insert(
        "partialFingerprints".into(),
        json!({ PARTIAL_FINGERPRINT: fingerprint }),
    );
    if !entry.related.is_empty() {
        let related: Vec<Value> = entry
            .related
            .iter()
            .enumerate()
            .map(|(id, related)| {
                json!({
                    "id": id,
                    "physicalLocation": physical_location(&related.at),
                    "message": { "text": related.message },
                })
            })
            .collect();
        result.insert("relatedLocations".into(), Value::Array(related));
    }
    if let Some(cluster) = &entry.finding.cluster {
        result.insert("properties".into(), json!({ "cluster": cluster }));
    }
    Value::Object(result)
}

/// The message, with the fix appended: code scanning shows no separate help per result.
fn message(entry: &Entry<'_>) -> String {
    match &entry.finding.help {
        Some(help) => format!("{}\nhelp: {help}", entry.finding.message),
        None => entry.finding.message.clone(),
    }
}

fn physical_location(at: &Position<'_>) -> Value {
    let artifact = if Path::new(&at.path).is_absolute() {
        json!({ "uri": file_uri(&at.path) })
    } else {
        json!({ "uri": percent_encode(&at.path), "uriBaseId": SRCROOT })
    };
    json!({
        "artifactLocation": artifact,
        "region": {
            "startLine": at.line,
            "startColumn": at.column,
            "endLine": at.end_line,
            "endColumn": at.end_column,
        },
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `file:` URI of an absolute `/`-separated path (`C:/x` on Windows becomes `file:///C:/x`).
fn file_uri(path: &str) -> String {
    match windows_drive(path) {
        Some((drive, rest)) => format!("file:///{drive}{}", percent_encode(rest)),
        None => format!("file://{}", percent_encode(path)),
    }
}

/// Splits `C:` off `C:/x`.
fn windows_drive(path: &str) -> Option<(&str, &str)> {
    let drive = path.get(..2)?;
    let mut chars = drive.chars();
    let is_drive =
        chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.next() == Some(':');
    is_drive.then(|| (drive, path.get(2..).unwrap_or("")))
}

/// Percent-encode everything but unreserved characters and `/` (so a `:` in a relative path
/// cannot be read as a URI scheme).
fn percent_encode(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encode_keeps_path_characters_and_escapes_the_rest() {
        assert_eq!(percent_encode("vms/101 a#b.conf"), "vms/101%20a%23b.conf");
        assert_eq!(percent_encode("a:b"), "a%3Ab");
        assert_eq!(percent_encode("ç"), "%C3%A7");
    }

    #[test]
    fn file_uri_handles_unix_and_windows_absolute_paths() {
        assert_eq!(file_uri("/repo/a b/"), "file:///repo/a%20b/");
        assert_eq!(file_uri("C:/repo/x.conf"), "file:///C:/repo/x.conf");
    }

    #[test]
    fn section_returns_one_markdown_section_on_one_line() {
        let docs = "## What\nChecks the CPU\ntype.\n\n## Why\nTalos needs v2.\n## Fix\nSet host.";
        assert_eq!(
            section(docs, "What").as_deref(),
            Some("Checks the CPU type.")
        );
        assert_eq!(section(docs, "Why").as_deref(), Some("Talos needs v2."));
        assert_eq!(section(docs, "Example"), None);
    }

    #[test]
    fn truncate_limits_descriptions_to_1024_characters() {
        let long = "é".repeat(2000);
        assert_eq!(truncate(&long).chars().count(), MAX_DESCRIPTION_CHARS);
        assert_eq!(truncate("short"), "short");
    }
}
