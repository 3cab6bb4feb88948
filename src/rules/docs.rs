//! Rule documentation generated from the registry: `talhorn explain`, `talhorn rules`, and
//! `docs/rules.md` (a test fails when that file is stale).

use super::{RuleMeta, all_meta};

/// `talhorn explain CODE`: the rule's documentation as markdown.
pub fn explain(meta: &RuleMeta) -> String {
    format!(
        "# {} {}\n\nLayer: {} · Default severity: {}\n\n{}\n\n{}",
        meta.code,
        meta.name,
        meta.layer.as_str(),
        meta.severity,
        meta.summary,
        meta.docs.trim_end()
    ) + "\n"
}

/// `talhorn rules --format table`.
pub fn table() -> String {
    let metas = all_meta();
    let mut out = String::new();
    for m in metas {
        out.push_str(&format!(
            "{:<7} {:<8} {:<28} {}\n",
            m.code,
            m.severity.as_str(),
            m.name,
            m.summary
        ));
    }
    out
}

/// `talhorn rules --format json`.
pub fn json() -> String {
    let rules: Vec<serde_json::Value> = all_meta()
        .iter()
        .map(|m| {
            serde_json::json!({
                "code": m.code,
                "name": m.name,
                "layer": m.layer.as_str(),
                "severity": m.severity.as_str(),
                "summary": m.summary,
            })
        })
        .collect();
    serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"
}

/// `docs/rules.md` and `talhorn rules --format markdown`.
pub fn markdown() -> String {
    let metas = all_meta();
    let mut out = String::from(
        "# talhorn rules\n\n<!-- Generated from the rule registry by `talhorn rules --format markdown`; do not edit. -->\n\n| code | name | severity | summary |\n|---|---|---|---|\n",
    );
    for m in &metas {
        out.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} |\n",
            m.code,
            m.code.to_lowercase(),
            m.name,
            m.severity,
            m.summary.replace('|', "\\|")
        ));
    }
    for m in &metas {
        let body = m.docs.trim_end().replace("\n## ", "\n### ");
        let body = body
            .strip_prefix("## ")
            .map_or(body.clone(), |b| format!("### {b}"));
        out.push_str(&format!(
            "\n## {}\n\n`{}` · layer {} · default severity **{}**\n\n{}\n\n{}\n",
            m.code,
            m.name,
            m.layer.as_str(),
            m.severity,
            m.summary,
            body
        ));
    }
    out
}
