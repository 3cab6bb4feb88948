//! Serialising generated YAML documents: structure-safe (serde, never string concatenation),
//! deterministic (keys in the order built), LF with a trailing newline.

use serde_json::Value as Json;

/// Serialises documents into one multi-document YAML stream, after a `#` header comment (one
/// line, escaped like every other input string that reaches a generated line).
pub fn documents(header: &str, docs: &[Json]) -> Result<String, String> {
    let mut out = String::new();
    out.push_str("# ");
    out.push_str(&super::templates::one_line(header));
    out.push('\n');
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let text =
            serde_saphyr::to_string(doc).map_err(|e| format!("cannot serialise YAML: {e}"))?;
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Sets a dotted key path in a JSON object, creating the parents (`defaultSettings.x`).
pub fn set_path(root: &mut Json, path: &str, value: Json) {
    let mut node = root;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !node.is_object() {
            *node = Json::Object(serde_json::Map::new());
        }
        let Json::Object(map) = node else { return };
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        node = map
            .entry(key.to_string())
            .or_insert_with(|| Json::Object(serde_json::Map::new()));
    }
}
