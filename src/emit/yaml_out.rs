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

/// Strings that break or change meaning in some YAML reader when written plain: YAML 1.1
/// types (`yes`, `=`, `<<`, base 60, timestamps), indicators, comments, line breaks, control
/// characters. Every emitter's tests round-trip them.
#[cfg(test)]
pub(crate) const HOSTILE_STRINGS: &[&str] = &[
    "=",
    "<<",
    "~",
    "",
    "null",
    "Null",
    "true",
    "False",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "1",
    "-1",
    "+1",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "1e3",
    "1.5",
    ".5",
    "-0",
    "1:20",
    "190:20:30.15",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    ".inf",
    "-.Inf",
    ".nan",
    "inf",
    "nan",
    "-",
    "- x",
    "?",
    "? x",
    ":",
    ": x",
    "a: b",
    "a:",
    "a #b",
    "#x",
    "a#b",
    "&a",
    "*a",
    "!tag",
    "!!str",
    "|",
    ">",
    "'",
    "\"",
    "''",
    "%YAML",
    "@x",
    "`x",
    "---",
    "...",
    "--- x",
    " lead",
    "trail ",
    "a\nb",
    "a\r\nb",
    "a\rb",
    "\t",
    "a\tb",
    "\u{1b}[31mred",
    "\u{feff}x",
    "\u{85}",
    "\u{2028}",
    "\u{7f}",
    "x\\y",
    "\\",
    "[a]",
    "{a: 1}",
    ",",
    "a,b",
    "a, b",
    "[",
    "}",
    "key: value # c",
    "\u{0}",
    "ü",
    "\u{202e}evil",
    "a\n",
    "\n",
    "  ",
    "a  b",
];

/// Whether a YAML 1.1 reader (PyYAML, Go's yaml.v2, older tools) resolves this plain scalar to
/// something other than the string, or refuses it (`=` is YAML 1.1's "value" type).
#[cfg(test)]
pub(crate) fn yaml11_plain_is_not_this_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let words = [
        "=", "<<", "~", "", "null", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf",
        "+.inf", "-.inf", ".nan",
    ];
    let number = {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s).replace('_', "");
        let decimal = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && digits.parse::<f64>().is_ok();
        let radix = ["0x", "0o", "0b"].iter().any(|p| digits.starts_with(p));
        let base60 = digits.contains(':')
            && digits
                .split(':')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '.'));
        decimal || radix || base60
    };
    let timestamp = s.len() >= 10
        && s.as_bytes()[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    words.contains(&lower.as_str()) || number || timestamp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Value, parse_documents};

    /// Every hostile string, as a key, a value and a list item, reads back as the same string
    /// with a strict YAML 1.2 reader, and is never written plain where a YAML 1.1 reader would
    /// read something else.
    #[test]
    fn every_emitted_string_round_trips() {
        for s in HOSTILE_STRINGS {
            let mut doc = serde_json::Map::new();
            doc.insert("value".into(), Json::String((*s).into()));
            doc.insert("list".into(), Json::Array(vec![Json::String((*s).into())]));
            doc.insert((*s).into(), Json::from("key"));
            let text = documents("header", &[Json::Object(doc)]).unwrap();
            let docs = parse_documents(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
            let root = &docs[0];
            assert_eq!(
                root.get("value").and_then(|v| v.as_str()),
                Some(*s),
                "{text}"
            );
            let item = root
                .get("list")
                .and_then(|l| l.as_seq())
                .map(|l| &l[0].value);
            assert_eq!(item, Some(&Value::Str((*s).to_string())), "{text}");
            assert!(root.get(s).is_some(), "key {s:?} lost:\n{text}");
            if yaml11_plain_is_not_this_string(s) {
                let plain = [format!(": {s}\n"), format!("- {s}\n"), format!("\n{s}: ")];
                assert!(
                    plain.iter().all(|p| !text.contains(p.as_str())),
                    "{s:?} is written plain:\n{text}"
                );
            }
        }
    }
}
