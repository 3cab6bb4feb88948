//! Derives the Longhorn Helm values key tables in `data/longhorn/<version>.keys` from the chart's
//! own `values.yaml` (`../shared/upstream/longhorn/<version>/values.yaml`).
//!
//! Python's standard library has no YAML parser, so this derivation is Rust and reuses talhorn's
//! YAML reader. `tests/longhorn_knowledge.rs` includes this file and re-derives every table; it
//! fails when a table is stale. To rewrite the tables after the upstream files changed:
//!
//! ```sh
//! TALHORN_REGENERATE=1 cargo test --test longhorn_knowledge key_tables_match_upstream_values
//! ```
//!
//! Table format: one dotted key path per line, sorted. A path ending in `.*` is free-form: the
//! key is valid and nothing under it is checked. Every other line is a key whose value the chart
//! reads as it is (a scalar, or a value talhorn does not look inside). Sections (mappings with
//! chart-defined keys) are not listed; they are the prefixes of the listed paths.

use talhorn::yaml::{Node, Value};

/// Keys whose contents are Kubernetes objects or user-chosen names, passed through by the chart
/// (`toYaml`, `range`), whatever their default in `values.yaml` is.
const FREE_FORM_KEYS: &[&str] = &[
    "additionalLabels",
    "affinity",
    "annotations",
    "extraObjects",
    "imagePullSecrets",
    "labels",
    "nodeSelector",
    "resources",
    "secrets",
    "securityContext",
    "serviceAnnotations",
    "serviceLabels",
    "tolerations",
    "updateStrategy",
];

/// The table text for one chart version.
pub fn derive_key_table(version: &str, values: &Node) -> Result<String, String> {
    let mut paths = Vec::new();
    let entries = values
        .as_map()
        .ok_or_else(|| format!("values.yaml of {version} is not a mapping"))?;
    collect_paths("", entries, &mut paths)?;
    paths.sort();
    paths.dedup();
    let mut table = format!(
        "# Helm values keys of the Longhorn chart {version}.\n\
         # Derived from shared/upstream/longhorn/{version}/values.yaml by tools/derive_longhorn_keys.rs;\n\
         # do not edit. `path.*` = free-form: keys under it are not checked.\n"
    );
    for path in paths {
        table.push_str(&path);
        table.push('\n');
    }
    Ok(table)
}

fn collect_paths(
    prefix: &str,
    entries: &[(Node, Node)],
    out: &mut Vec<String>,
) -> Result<(), String> {
    for (key, value) in entries {
        let name = key
            .as_str()
            .ok_or_else(|| format!("non-string key under `{prefix}`"))?;
        if name.is_empty() || name.contains('.') {
            return Err(format!(
                "key `{name}` under `{prefix}` cannot be written as a dotted path"
            ));
        }
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        match &value.value {
            _ if FREE_FORM_KEYS.contains(&name) => out.push(format!("{path}.*")),
            Value::Map(children) if children.is_empty() => out.push(format!("{path}.*")),
            Value::Map(children) => collect_paths(&path, children, out)?,
            Value::Seq(_) => out.push(format!("{path}.*")),
            _ => out.push(path),
        }
    }
    Ok(())
}
