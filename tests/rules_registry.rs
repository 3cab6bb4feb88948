//! The rule registry is the one source of rule documentation.

use talhorn::rules::{all_meta, docs};

#[test]
fn docs_rules_md_is_generated_from_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == docs::markdown(),
        "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
}

#[test]
fn every_rule_documents_what_why_example_fix_and_source() {
    for meta in all_meta() {
        for section in ["## What", "## Why", "## Example", "## Fix", "## Source"] {
            assert!(
                meta.docs.contains(section),
                "{} lacks `{section}`",
                meta.code
            );
        }
        assert!(!meta.summary.is_empty(), "{} has no summary", meta.code);
    }
}

#[test]
fn codes_are_unique_well_formed_and_names_are_kebab_case() {
    let metas = all_meta();
    let mut codes: Vec<&str> = metas.iter().map(|m| m.code).collect();
    codes.dedup();
    assert_eq!(codes.len(), metas.len(), "duplicate rule codes");
    for m in &metas {
        let (prefix, number) = m.code.split_at(3);
        assert!(
            ["INT", "PVE", "TAL", "LHN", "NET"].contains(&prefix),
            "{}",
            m.code
        );
        assert!(
            number.len() == 3 && number.chars().all(|c| c.is_ascii_digit()),
            "{}",
            m.code
        );
        assert!(
            m.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}",
            m.name
        );
    }
}

#[test]
fn explain_prints_the_documentation() {
    let meta = talhorn::rules::meta("pve001").expect("PVE001 is registered");
    let text = docs::explain(meta);
    assert!(text.starts_with("# PVE001 cpu-lacks-x86-64-v2"));
    assert!(text.contains("## Fix"));
}
