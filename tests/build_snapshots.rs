//! The shape of `talhorn build` output: the expected file list per fixture, one insta snapshot
//! per generated file, byte-identical rebuilds, and YAML that re-parses to the same structure.

mod build_support;

use build_support::{build, fixture_intents, fixture_name};
use serde_json::Value as Json;
use std::path::Path;
use talhorn::yaml::{Node, Value, parse_document, parse_documents};

/// The files DESIGN §3 says `build` writes for an intent, derived from the intent itself.
fn expected_files(intent: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(intent).unwrap_or_else(|e| panic!("{e}"));
    let root = parse_document(&text).unwrap_or_else(|e| panic!("{e}"));
    let mut files = vec![
        "RUNBOOK.md".to_string(),
        "proxmox/create-vms.sh".to_string(),
        "rendered/.gitignore".to_string(),
        "talos/controlplane.yaml".to_string(),
        "talos/schematic.yaml".to_string(),
        "talos/worker.yaml".to_string(),
    ];
    for node in root.get("nodes").and_then(Node::as_seq).unwrap_or_default() {
        let field = |key: &str| {
            node.get(key)
                .and_then(Node::scalar_text)
                .unwrap_or_default()
        };
        let name = field("name");
        files.push(format!("proxmox/{}-{name}.conf", field("vmid")));
        files.push(format!("talos/nodes/{name}.yaml"));
    }
    if let Some(longhorn) = root.get("longhorn") {
        files.push("kubernetes/longhorn/namespace.yaml".to_string());
        files.push("kubernetes/longhorn/values.yaml".to_string());
        match longhorn.get("gitops").and_then(Node::as_str) {
            Some("flux") => files.push("kubernetes/longhorn/helmrelease.yaml".to_string()),
            Some("argocd") => files.push("kubernetes/longhorn/application.yaml".to_string()),
            _ => {}
        }
    }
    files.sort();
    files
}

fn text_of(content: &[u8], what: &str) -> String {
    String::from_utf8(content.to_vec()).unwrap_or_else(|_| panic!("{what} is not UTF-8"))
}

#[test]
fn every_fixture_writes_the_expected_files() {
    for intent in fixture_intents() {
        let paths: Vec<String> = build(&intent).into_iter().map(|a| a.path).collect();
        assert_eq!(paths, expected_files(&intent), "{}", intent.display());
    }
}

#[test]
fn snapshot_every_generated_file() {
    // Output shape only; the conformance tests check the content against upstream.
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/build");
    settings.bind(|| {
        for intent in fixture_intents() {
            let fixture = fixture_name(&intent);
            for artifact in build(&intent) {
                let name = format!("{fixture}__{}", artifact.path.replace('/', "__"));
                let text = text_of(&artifact.content, &name);
                insta::assert_snapshot!(name, text);
            }
        }
    });
}

#[test]
fn two_builds_give_identical_bytes() {
    for intent in fixture_intents() {
        let first = build(&intent);
        let second = build(&intent);
        assert_eq!(first, second, "{} is not deterministic", intent.display());
    }
}

#[test]
fn every_file_is_lf_terminated_text_without_tool_version() {
    let version = env!("CARGO_PKG_VERSION");
    for intent in fixture_intents() {
        for artifact in build(&intent) {
            let what = format!("{} {}", intent.display(), artifact.path);
            let text = text_of(&artifact.content, &what);
            assert!(text.ends_with('\n'), "{what}: no trailing newline");
            assert!(!text.contains('\r'), "{what}: CR in output");
            assert!(!text.ends_with("\n\n"), "{what}: trailing blank line");
            assert!(
                !text.contains(&format!("talhorn {version}"))
                    && !text.contains(&format!("talhorn v{version}")),
                "{what}: names the tool version"
            );
        }
    }
}

/// Mapping keys that occur twice in one mapping, anywhere in the tree.
fn duplicate_keys(node: &Node, pointer: &str, out: &mut Vec<String>) {
    match &node.value {
        Value::Map(entries) => {
            let mut seen = std::collections::BTreeSet::new();
            for (key, value) in entries {
                let key = key.scalar_text().unwrap_or_default();
                if !seen.insert(key.clone()) {
                    out.push(format!("{pointer}/{key}"));
                }
                duplicate_keys(value, &format!("{pointer}/{key}"), out);
            }
        }
        Value::Seq(items) => {
            for (index, item) in items.iter().enumerate() {
                duplicate_keys(item, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn generated_yaml_reparses_to_the_same_structure() {
    let mut documents_checked = 0;
    for intent in fixture_intents() {
        for artifact in build(&intent) {
            if !artifact.path.ends_with(".yaml") {
                continue;
            }
            let what = format!("{} {}", intent.display(), artifact.path);
            let text = text_of(&artifact.content, &what);
            let docs = parse_documents(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(!docs.is_empty(), "{what}: no YAML document");
            for doc in &docs {
                documents_checked += 1;
                let mut duplicates = Vec::new();
                duplicate_keys(doc, "", &mut duplicates);
                assert!(
                    duplicates.is_empty(),
                    "{what}: duplicate keys {duplicates:?}"
                );
                let json = doc.to_json();
                assert!(json.is_object(), "{what}: a document is not a mapping");
                let yaml = serde_saphyr::to_string(&json)
                    .unwrap_or_else(|e| panic!("{what}: cannot re-serialise: {e}"));
                let again: Json = parse_document(&yaml)
                    .unwrap_or_else(|e| panic!("{what}: re-serialised YAML does not parse: {e}"))
                    .to_json();
                assert_eq!(json, again, "{what}: the structure changed on a round trip");
            }
        }
    }
    assert!(documents_checked > 0);
}
