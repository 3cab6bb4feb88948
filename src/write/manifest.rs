//! `.talhorn-manifest.json`: which files talhorn generated, with the sha256 of what it wrote.
//!
//! The manifest is how the writer tells its own files (safe to update or delete) from files a
//! person wrote or edited (never touched without `--force`).

use super::paths::problem_with;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The only manifest format this writer reads and writes.
const VERSION: u64 = 1;

/// Path (relative, '/'-separated) → lowercase hex sha256 of the content talhorn wrote.
pub type Hashes = BTreeMap<String, String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnDisk {
    version: u64,
    files: BTreeMap<String, String>,
}

pub fn sha256_hex(content: &[u8]) -> String {
    format!("{:x}", Sha256::digest(content))
}

/// Reads a manifest, or says what is wrong with it (the caller adds where and how to fix it).
pub fn parse(bytes: &[u8]) -> Result<Hashes, String> {
    let on_disk: OnDisk =
        serde_json::from_slice(bytes).map_err(|err| format!("it is not valid: {err}"))?;
    if on_disk.version != VERSION {
        return Err(format!(
            "it has version {}, but this talhorn reads version {VERSION} (was it written by a \
             newer talhorn?)",
            on_disk.version
        ));
    }
    for (path, hash) in &on_disk.files {
        if let Some(reason) = problem_with(path) {
            return Err(format!(
                "it lists the path {path:?}, which is not allowed: {reason}"
            ));
        }
        if !is_sha256_hex(hash) {
            return Err(format!(
                "the hash of {path:?} is not 64 lowercase hexadecimal digits"
            ));
        }
    }
    Ok(on_disk.files)
}

pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// The manifest's bytes: pretty JSON with sorted keys, LF line ends and a trailing newline, so
/// the same files always give the same manifest.
pub fn render(files: &Hashes) -> Vec<u8> {
    let files: Map<String, Value> = files
        .iter()
        .map(|(path, hash)| (path.clone(), Value::String(hash.clone())))
        .collect();
    // Inserted in sorted order; serde_json's `preserve_order` keeps it.
    let mut top = Map::new();
    top.insert("files".to_owned(), Value::Object(files));
    top.insert("version".to_owned(), Value::from(VERSION));
    format!("{:#}\n", Value::Object(top)).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_then_parse_round_trips() {
        let mut files = Hashes::new();
        files.insert("b/x.yaml".to_owned(), sha256_hex(b"x"));
        files.insert("a.md".to_owned(), sha256_hex(b"a"));
        let parsed = parse(&render(&files));
        assert_eq!(parsed, Ok(files));
    }

    #[test]
    fn render_sorts_keys_and_ends_with_a_newline() {
        let mut files = Hashes::new();
        files.insert("z".to_owned(), sha256_hex(b""));
        files.insert("a".to_owned(), sha256_hex(b""));
        let text = String::from_utf8(render(&files)).unwrap_or_default();
        let order: Vec<usize> = ["\"files\"", "\"a\"", "\"z\"", "\"version\""]
            .iter()
            .filter_map(|key| text.find(key))
            .collect();
        assert_eq!(order.len(), 4, "{text}");
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
        assert!(text.ends_with("}\n") && !text.contains('\r'));
    }

    #[test]
    fn parse_rejects_escaping_paths_bad_hashes_and_other_versions() {
        let hash = sha256_hex(b"");
        let bad = [
            format!(r#"{{"version":1,"files":{{"../etc/passwd":"{hash}"}}}}"#),
            r#"{"version":1,"files":{"a":"XYZ"}}"#.to_owned(),
            format!(r#"{{"version":2,"files":{{"a":"{hash}"}}}}"#),
            r#"{"version":1}"#.to_owned(),
            "not json".to_owned(),
        ];
        for text in bad {
            assert!(parse(text.as_bytes()).is_err(), "{text} was accepted");
        }
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
