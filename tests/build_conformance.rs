//! Conformance of `talhorn build` output against upstream facts, for every fixture intent and
//! the README example: Talos documents against the Talos config JSON schema of the pinned minor,
//! Longhorn values keys against the chart's `values.yaml`, `qm.conf` lines against the
//! `qm.conf` option table, `create-vms.sh` against `bash -n`, and the schematic ID against
//! sha256 of its canonical YAML.

mod build_support;
mod common;

use build_support::{build_into_temp_dir, files_under, fixture_intents, read};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use talhorn::yaml::{Node, parse_document, parse_documents};

/// A scalar from the intent file (`cluster.talos`, `longhorn.version`, `proxmox.version`).
fn intent_field(intent: &Path, keys: &[&str]) -> Option<String> {
    let text = std::fs::read_to_string(intent).ok()?;
    let root = parse_document(&text).ok()?;
    root.path(keys).and_then(Node::scalar_text)
}

/// `v1.14.0-rc.1` → 14.
fn talos_minor(intent: &Path) -> u32 {
    let version = intent_field(intent, &["cluster", "talos"]).unwrap_or_default();
    version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("{}: no Talos minor in {version:?}", intent.display()))
}

fn yaml_documents(path: &str, text: &str) -> Vec<Node> {
    parse_documents(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
}

fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s)\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Talos: every document validates against config.schema.json of its minor.

/// Fields that Talos still accepts but its JSON schema omits (`shared/research/talos.md` §1
/// "Pitfall for the linter" and §3.3): (first minor, parent JSON pointer, key). An
/// `additionalProperties` error is tolerated only for exactly these.
const DEPRECATED_BUT_ACCEPTED: &[(u32, &str, &str)] = &[
    // §1: absent from the v1.10+ schema; §3.3: deprecated in v1.10.
    (10, "/machine", "disks"),
    (10, "/machine/install", "extensions"),
    // §1: `machine.network.{hostname,interfaces,nameservers,…}` and
    // `machine.install.extraKernelArgs` absent from v1.12; §3.3: deprecated in v1.12.
    (12, "/machine/network", "hostname"),
    (12, "/machine/network", "interfaces"),
    (12, "/machine/network", "nameservers"),
    (12, "/machine/install", "extraKernelArgs"),
    // §1: "in v1.13 `machine.network` itself is gone from the schema".
    (13, "/machine", "network"),
    // §1: v1.14 MachineConfig lacks kernel, kubelet, sysctls, install and network; §3.3.
    (14, "/machine", "kernel"),
    (14, "/machine", "kubelet"),
    (14, "/machine", "sysctls"),
    (14, "/machine", "install"),
];

/// Kinds whose `kind` enum in the JSON schema differs from the name Talos's decoder registers
/// (the code wins): (registered, schema). `UnattendedInstallConfigKind = "UnattendedInstallConfig"`
/// in `runtime/unattended_install.go` (v1.14.0-rc.1), `UnattendedInstall` in its schema; the same
/// correction as `KIND_CORRECTIONS` in `tools/derive-talos-schema.py`.
const KIND_SPELLINGS: &[(&str, &str)] = &[("UnattendedInstallConfig", "UnattendedInstall")];

/// The document with its `kind` spelled as the schema spells it.
fn schema_spelling(doc: &Json) -> Json {
    let mut doc = doc.clone();
    let kind = doc.get("kind").and_then(Json::as_str);
    if let Some((_, schema)) = KIND_SPELLINGS.iter().find(|(code, _)| Some(*code) == kind)
        && let Some(object) = doc.as_object_mut()
    {
        object.insert("kind".into(), Json::String((*schema).to_string()));
    }
    doc
}

fn is_deprecated_but_accepted(minor: u32, parent: &str, key: &str) -> bool {
    DEPRECATED_BUT_ACCEPTED
        .iter()
        .any(|&(since, p, k)| minor >= since && p == parent && k == key)
}

/// The whole-schema validator and the raw schema (for per-kind validators) of one minor.
struct TalosSchema {
    raw: Json,
    root: jsonschema::Validator,
    by_kind: std::sync::Mutex<BTreeMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

fn talos_schema(shared: &Path, minor: u32) -> &'static TalosSchema {
    static SCHEMAS: OnceLock<std::sync::Mutex<BTreeMap<u32, &'static TalosSchema>>> =
        OnceLock::new();
    let cache = SCHEMAS.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache.entry(minor).or_insert_with(|| {
        let path = shared.join(format!("upstream/talos/v1.{minor}/config.schema.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let raw: Json =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let root = jsonschema::draft202012::new(&raw)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Box::leak(Box::new(TalosSchema {
            raw,
            root,
            by_kind: Default::default(),
        }))
    })
}

impl TalosSchema {
    /// The `$defs` entry the root `oneOf` offers for a document: the one whose `kind` enum
    /// names the document's kind, or `v1alpha1.Config` for the legacy document (no kind).
    fn definition_for(&self, kind: Option<&str>) -> Option<String> {
        let defs = self.raw.get("$defs")?.as_object()?;
        let Some(kind) = kind else {
            return defs
                .contains_key("v1alpha1.Config")
                .then(|| "v1alpha1.Config".to_string());
        };
        self.raw
            .get("oneOf")?
            .as_array()?
            .iter()
            .filter_map(|branch| branch.get("$ref")?.as_str()?.strip_prefix("#/$defs/"))
            .find(|name| {
                defs.get(*name)
                    .and_then(|def| def.pointer("/properties/kind/enum"))
                    .and_then(Json::as_array)
                    .is_some_and(|kinds| kinds.iter().any(|k| k.as_str() == Some(kind)))
            })
            .map(str::to_string)
    }

    /// A validator for one `$defs` entry, so its errors point at the offending field instead
    /// of the root `oneOf`.
    fn definition_validator(&self, name: &str) -> std::sync::Arc<jsonschema::Validator> {
        let mut cache = self.by_kind.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(name.to_string())
            .or_insert_with(|| {
                let schema = serde_json::json!({
                    "$schema": self.raw.get("$schema"),
                    "$defs": self.raw.get("$defs"),
                    "$ref": format!("#/$defs/{name}"),
                });
                let validator = jsonschema::draft202012::new(&schema)
                    .unwrap_or_else(|e| panic!("schema for {name}: {e}"));
                std::sync::Arc::new(validator)
            })
            .clone()
    }

    /// Why a document is invalid, after tolerating the deprecated-but-accepted fields.
    fn problems(&self, minor: u32, doc: &Json) -> Vec<String> {
        let doc = &schema_spelling(doc);
        if self.root.is_valid(doc) {
            return Vec::new();
        }
        let kind = doc.get("kind").and_then(Json::as_str);
        // A delete selector (`$patch: delete`) is a patch directive that removes a document
        // of that kind (Talos `configpatcher` strategic merge): only its kind must exist.
        if doc.get("$patch").and_then(Json::as_str) == Some("delete") {
            let extra: Vec<&String> = doc
                .as_object()
                .map(|m| {
                    m.keys()
                        .filter(|k| {
                            !matches!(k.as_str(), "apiVersion" | "kind" | "name" | "$patch")
                        })
                        .collect()
                })
                .unwrap_or_default();
            return match self.definition_for(kind) {
                Some(_) if extra.is_empty() => Vec::new(),
                Some(_) => vec![format!("delete selector with fields {extra:?}")],
                None => vec![format!(
                    "delete selector for unknown kind {kind:?} in v1.{minor}"
                )],
            };
        }
        let Some(definition) = self.definition_for(kind) else {
            return vec![format!(
                "no document type for kind {kind:?} in the v1.{minor} schema"
            )];
        };
        let validator = self.definition_validator(&definition);
        let mut problems = Vec::new();
        for error in validator.iter_errors(doc) {
            let parent = error.instance_path().as_str().to_string();
            match error.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    problems.extend(
                        unexpected
                            .iter()
                            .filter(|key| !is_deprecated_but_accepted(minor, &parent, key))
                            .map(|key| format!("{parent}: unknown field `{key}` ({definition})")),
                    );
                }
                _ => problems.push(format!("{parent}: {error} ({definition})")),
            }
        }
        if problems.is_empty() && kind.is_some() {
            // A typed document that fails the root but passes its own definition can only be
            // ambiguous; tolerated fields never occur in typed documents.
            problems.push(format!(
                "fails the root oneOf although {definition} accepts it"
            ));
        }
        problems
    }
}

#[test]
fn talos_documents_validate_against_the_pinned_minors_schema() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut failures = Vec::new();
    let mut documents_checked = 0;
    for intent in fixture_intents() {
        let minor = talos_minor(&intent);
        let schema = talos_schema(&shared, minor);
        let out = build_into_temp_dir(&intent);
        let talos_files = files_under(out.path())
            .into_iter()
            .filter(|f| f.starts_with("talos/") && f.ends_with(".yaml"))
            .filter(|f| f != "talos/schematic.yaml");
        for file in talos_files {
            let text = read(out.path(), &file);
            for (index, doc) in yaml_documents(&file, &text).iter().enumerate() {
                documents_checked += 1;
                for problem in schema.problems(minor, &doc.to_json()) {
                    failures.push(format!(
                        "{} {file} document {index}: {problem}",
                        intent.display()
                    ));
                }
            }
        }
    }
    assert_no_failures("Talos schema", &failures);
    assert!(documents_checked > 0, "no Talos documents were generated");
}

#[test]
fn the_talos_schema_check_rejects_what_it_should() {
    // Guards the tolerance table: a typo, a wrong type and a deprecated field on a version
    // that does not deprecate it must all still be reported.
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let schema = talos_schema(&shared, 11);
    let typo = serde_json::json!({"machine": {"instal": {"disk": "/dev/sda"}}});
    assert!(!schema.problems(11, &typo).is_empty(), "typo accepted");
    let wrong_type = serde_json::json!({"machine": {"install": {"disk": 7}}});
    assert!(
        !schema.problems(11, &wrong_type).is_empty(),
        "wrong type accepted"
    );
    let volume = serde_json::json!({
        "apiVersion": "v1alpha1", "kind": "UserVolumeConfig", "name": "x", "bogus": 1
    });
    assert!(
        !schema.problems(11, &volume).is_empty(),
        "unknown field accepted"
    );
    let disks = serde_json::json!({"machine": {"disks": [{"device": "/dev/sdb"}]}});
    assert!(
        schema.problems(11, &disks).is_empty(),
        "{:?}",
        schema.problems(11, &disks)
    );
    let schema_9 = talos_schema(&shared, 9);
    let extensions = serde_json::json!({"machine": {"install": {"bogusField": true}}});
    assert!(!schema_9.problems(9, &extensions).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Longhorn: every values key exists in the chart's values.yaml.

/// The key paths of a chart's `values.yaml`: every mapping key path, and the paths of empty
/// mappings (`nodeSelector: {}`, `annotations: {}`), which are free-form.
struct ChartKeys {
    paths: BTreeSet<Vec<String>>,
    free_form: BTreeSet<Vec<String>>,
}

impl ChartKeys {
    fn load(shared: &Path, version: &str) -> Self {
        let path = shared.join(format!("upstream/longhorn/{version}/values.yaml"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let root = parse_document(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut keys = Self {
            paths: BTreeSet::new(),
            free_form: BTreeSet::new(),
        };
        keys.collect(&root.to_json(), &mut Vec::new());
        keys
    }

    fn collect(&mut self, value: &Json, prefix: &mut Vec<String>) {
        let Json::Object(map) = value else { return };
        if map.is_empty() {
            self.free_form.insert(prefix.clone());
        }
        for (key, child) in map {
            prefix.push(key.clone());
            self.paths.insert(prefix.clone());
            self.collect(child, prefix);
            prefix.pop();
        }
    }

    fn allows(&self, path: &[String]) -> bool {
        self.paths.contains(path)
            || (0..path.len())
                .any(|len| path.get(..len).is_some_and(|p| self.free_form.contains(p)))
    }
}

/// Every mapping key path in emitted values (lists are values, not key paths).
fn value_paths(value: &Json, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Json::Object(map) = value else { return };
    for (key, child) in map {
        prefix.push(key.clone());
        out.push(prefix.clone());
        value_paths(child, prefix, out);
        prefix.pop();
    }
}

/// The Helm values each Longhorn output file carries.
fn emitted_values(file: &str, docs: &[Node]) -> Vec<Json> {
    let json: Vec<Json> = docs.iter().map(Node::to_json).collect();
    match file {
        "kubernetes/longhorn/values.yaml" => json,
        "kubernetes/longhorn/helmrelease.yaml" => json
            .iter()
            .filter(|d| d.get("kind").and_then(Json::as_str) == Some("HelmRelease"))
            .filter_map(|d| d.pointer("/spec/values").cloned())
            .collect(),
        "kubernetes/longhorn/application.yaml" => json
            .iter()
            .filter_map(|d| d.pointer("/spec/source/helm/valuesObject").cloned())
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn longhorn_values_keys_exist_in_the_charts_values_yaml() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut failures = Vec::new();
    let mut paths_checked = 0;
    for intent in fixture_intents() {
        let Some(version) = intent_field(&intent, &["longhorn", "version"]) else {
            continue;
        };
        let chart = ChartKeys::load(&shared, &version);
        let out = build_into_temp_dir(&intent);
        let files = files_under(out.path());
        let mut carriers = 0;
        for file in files
            .iter()
            .filter(|f| f.starts_with("kubernetes/longhorn/"))
        {
            let docs = yaml_documents(file, &read(out.path(), file));
            for values in emitted_values(file, &docs) {
                carriers += 1;
                let mut paths = Vec::new();
                value_paths(&values, &mut Vec::new(), &mut paths);
                for path in paths {
                    paths_checked += 1;
                    if !chart.allows(&path) {
                        failures.push(format!(
                            "{} {file}: `{}` is not a key of Longhorn {version} values.yaml",
                            intent.display(),
                            path.join(".")
                        ));
                    }
                }
            }
        }
        // values.yaml, plus the HelmRelease or Application when GitOps is on.
        let gitops = intent_field(&intent, &["longhorn", "gitops"]).unwrap_or_default();
        let expected = if gitops == "flux" || gitops == "argocd" {
            2
        } else {
            1
        };
        if carriers != expected {
            failures.push(format!(
                "{}: {carriers} files carry Helm values, expected {expected}",
                intent.display()
            ));
        }
    }
    assert_no_failures("Longhorn values keys", &failures);
    assert!(paths_checked > 0, "no Longhorn values were generated");
}

#[test]
fn the_longhorn_key_check_rejects_unknown_keys() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let chart = ChartKeys::load(&shared, "1.10.2");
    let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
    assert!(chart.allows(&path("defaultSettings.defaultReplicaCount")));
    assert!(
        !chart.allows(&path("numberOfReplicas")),
        "no such key in the chart"
    );
    assert!(!chart.allows(&path("defaultSettings.defaultReplicaCounts")));
    assert!(
        chart.allows(&path("longhornManager.nodeSelector.disk")),
        "free-form map"
    );
}

// ---------------------------------------------------------------------------------------------
// Proxmox: every qm.conf line is allowed by qm-options.json.

struct QmOptions(serde_json::Map<String, Json>);

impl QmOptions {
    fn load(shared: &Path) -> Self {
        let path = shared.join("upstream/proxmox/qm-options.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match serde_json::from_str(&text) {
            Ok(Json::Object(map)) => Self(map),
            other => panic!("{}: not a JSON object: {other:?}", path.display()),
        }
    }

    /// The table entry for a key: exact (`cores`, `efidisk0`), or `<family>[n]` with the index
    /// inside the family's `index_range`.
    fn entry(&self, key: &str) -> Result<&Json, String> {
        if let Some(entry) = self.0.get(key).filter(|_| !key.starts_with('_')) {
            return Ok(entry);
        }
        let family = key.trim_end_matches(|c: char| c.is_ascii_digit());
        let index: u64 = key
            .get(family.len()..)
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| format!("`{key}` is not a qm.conf option"))?;
        let entry = self
            .0
            .get(&format!("{family}[n]"))
            .ok_or_else(|| format!("`{key}` is not a qm.conf option"))?;
        let range = entry
            .get("index_range")
            .and_then(Json::as_array)
            .and_then(|r| Some((r.first()?.as_u64()?, r.get(1)?.as_u64()?)));
        match range {
            Some((low, high)) if (low..=high).contains(&index) => Ok(entry),
            Some((low, high)) => Err(format!("`{key}`: index outside {low}..={high}")),
            None => Err(format!("`{key}`: {family}[n] has no index range")),
        }
    }
}

/// Checks a scalar against a `type`/`enum`/`minimum`/`maximum` description.
fn check_scalar(spec: &Json, value: &str) -> Result<(), String> {
    let bound = |name: &str| {
        spec.get(name)
            .and_then(Json::as_str)
            .and_then(|b| b.parse::<f64>().ok())
    };
    let in_bounds = |number: f64| {
        bound("minimum").is_none_or(|min| number >= min)
            && bound("maximum").is_none_or(|max| number <= max)
    };
    match spec.get("type").and_then(Json::as_str) {
        Some("boolean") if value == "0" || value == "1" => Ok(()),
        Some("boolean") => Err(format!("`{value}` is not 0 or 1")),
        Some("enum") => {
            let allowed = spec.get("enum").and_then(Json::as_array);
            if allowed.is_some_and(|a| a.iter().any(|v| v.as_str() == Some(value))) {
                Ok(())
            } else {
                Err(format!("`{value}` is not one of {allowed:?}"))
            }
        }
        Some("integer") => match value.parse::<i64>() {
            Ok(n) if in_bounds(n as f64) => Ok(()),
            _ => Err(format!("`{value}` is not an integer in range")),
        },
        Some("number") => match value.parse::<f64>() {
            Ok(n) if in_bounds(n) => Ok(()),
            _ => Err(format!("`{value}` is not a number in range")),
        },
        Some("string") if !value.is_empty() => Ok(()),
        other => Err(format!("`{value}` does not fit type {other:?}")),
    }
}

fn is_mac(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Checks a property string (`virtio=…,bridge=vmbr0,mtu=1`) against the entry's sub-options.
fn check_property_string(entry: &Json, value: &str, pve: u8) -> Result<(), String> {
    let subs = entry
        .get("sub_options")
        .and_then(Json::as_object)
        .ok_or("no sub_options")?;
    let not_in_pve8: Vec<&str> = entry
        .get("sub_options_not_in_pve8")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let models: Vec<&str> = subs
        .get("model")
        .and_then(|m| m.get("enum"))
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let mut bare_seen = false;
    for part in value.split(',') {
        let (name, sub_value) = match part.split_once('=') {
            Some((name, v)) => (name.to_string(), v),
            None if !bare_seen => {
                bare_seen = true;
                let default_key = entry.get("default_key").and_then(Json::as_str);
                (
                    default_key
                        .ok_or("a bare value but no default_key")?
                        .to_string(),
                    part,
                )
            }
            None => return Err(format!("second bare value `{part}`")),
        };
        if subs.contains_key("<model>") && models.contains(&name.as_str()) {
            // `<model>=<MAC>`: the NIC shorthand PVE itself writes.
            if !is_mac(sub_value) {
                return Err(format!("`{name}={sub_value}`: not a MAC address"));
            }
            continue;
        }
        let spec = subs
            .get(&name)
            .ok_or_else(|| format!("unknown sub-option `{name}`"))?;
        if pve == 8 && (not_in_pve8.contains(&name.as_str()) || spec.get("pve8").is_some()) {
            return Err(format!("sub-option `{name}` is not available on PVE 8"));
        }
        check_scalar(spec, sub_value).map_err(|e| format!("`{name}`: {e}"))?;
    }
    Ok(())
}

fn check_qm_line(options: &QmOptions, line: &str, pve: u8) -> Result<(), String> {
    let (key, value) = line
        .split_once(": ")
        .ok_or_else(|| format!("`{line}` is not `key: value`"))?;
    let entry = options.entry(key)?;
    if pve == 8 && entry.get("pve8").is_some() {
        return Err(format!("`{key}` is not available on PVE 8"));
    }
    match entry.get("type").and_then(Json::as_str) {
        Some("property-string") => check_property_string(entry, value, pve),
        _ => check_scalar(entry, value),
    }
    .map_err(|e| format!("{key}: {e}"))
}

#[test]
fn qm_conf_keys_sub_options_and_values_are_allowed() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let options = QmOptions::load(&shared);
    let mut failures = Vec::new();
    let mut lines_checked = 0;
    for intent in fixture_intents() {
        let pve: u8 = intent_field(&intent, &["proxmox", "version"])
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{}: no proxmox.version", intent.display()));
        let out = build_into_temp_dir(&intent);
        let confs = files_under(out.path())
            .into_iter()
            .filter(|f| f.starts_with("proxmox/") && f.ends_with(".conf"));
        for file in confs {
            let text = read(out.path(), &file);
            let lines = text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'));
            for line in lines {
                lines_checked += 1;
                if let Err(e) = check_qm_line(&options, line, pve) {
                    failures.push(format!("{} {file}: {e}", intent.display()));
                }
            }
            let parsed = talhorn::load::qmconf::parse(&text);
            let findings = talhorn::knowledge::proxmox::validate(
                talhorn::source::FileId(0),
                &parsed,
                Some(pve),
            );
            for finding in findings {
                failures.push(format!(
                    "{} {file}: validate: {} {}",
                    intent.display(),
                    finding.code,
                    finding.message
                ));
            }
        }
    }
    assert_no_failures("qm.conf", &failures);
    assert!(lines_checked > 0, "no qm.conf lines were generated");
}

#[test]
fn the_qm_conf_check_rejects_what_it_should() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let options = QmOptions::load(&shared);
    assert!(check_qm_line(&options, "scsi1: local-lvm:vm-1-disk-0,serial=x", 9).is_ok());
    assert!(check_qm_line(&options, "net0: virtio=BC:24:11:00:00:01,mtu=1", 8).is_ok());
    assert!(check_qm_line(&options, "scsi31: local-lvm:vm-1-disk-0", 9).is_err());
    assert!(check_qm_line(&options, "scsi1: local-lvm:x,bogus=1", 9).is_err());
    assert!(check_qm_line(&options, "scsi1: local-lvm:x,discard=yes", 9).is_err());
    assert!(check_qm_line(&options, "bios: uefi", 9).is_err());
    assert!(check_qm_line(&options, "cores: 0", 9).is_err());
    assert!(check_qm_line(&options, "agent: enabled=1,freeze-fs=1", 8).is_err());
    assert!(check_qm_line(&options, "net0: virtio=nonsense", 9).is_err());
}

// ---------------------------------------------------------------------------------------------
// create-vms.sh and the schematic.

#[test]
fn create_vms_script_passes_bash_syntax_check() {
    let bash_available = std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_ok();
    if !bash_available {
        assert!(std::env::var_os("CI").is_none(), "CI needs bash");
        eprintln!("note: bash not found; skipping the create-vms.sh syntax check");
        return;
    }
    for intent in fixture_intents() {
        let out = build_into_temp_dir(&intent);
        let script = out.path().join("proxmox/create-vms.sh");
        let result = std::process::Command::new("bash")
            .arg("-n")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("bash -n: {e}"));
        assert!(
            result.status.success(),
            "{}: bash -n create-vms.sh failed:\n{}",
            intent.display(),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

/// Splits `talos/schematic.yaml` into its `# Key: value` header and the canonical YAML body.
fn split_schematic(text: &str) -> (BTreeMap<String, String>, String) {
    let mut header = BTreeMap::new();
    let mut body = String::new();
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("# ") {
            Some(comment) if body.is_empty() => {
                if let Some((key, value)) = comment.split_once(": ") {
                    header.insert(key.to_string(), value.trim_end().to_string());
                }
            }
            _ => body.push_str(line),
        }
    }
    (header, body)
}

#[test]
fn schematic_id_is_sha256_of_its_canonical_yaml() {
    for intent in fixture_intents() {
        let name = intent.display();
        let out = build_into_temp_dir(&intent);
        let (header, body) = split_schematic(&read(out.path(), "talos/schematic.yaml"));
        let id = header
            .get("ID")
            .unwrap_or_else(|| panic!("{name}: schematic.yaml has no `# ID:` line"));
        let digest: String = Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(id, &digest, "{name}: the ID is not sha256 of the body");

        // Canonical form: 4-space indentation and extension names sorted.
        let root = parse_document(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let extensions: Vec<String> = root
            .path(&["customization", "systemExtensions", "officialExtensions"])
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_text)
            .collect();
        let mut sorted = extensions.clone();
        sorted.sort();
        assert_eq!(extensions, sorted, "{name}: extensions not sorted");
        for ext in &extensions {
            assert!(
                body.contains(&format!("\n            - {ext}\n")),
                "{name}: `{ext}` is not indented by 4 spaces per level"
            );
        }

        // Every installer image the Talos patches name is built from this schematic.
        let installer = header
            .get("Installer")
            .unwrap_or_else(|| panic!("{name}: no `# Installer:` line"));
        assert!(installer.contains(id.as_str()), "{name}: {installer}");
        for file in files_under(out.path()) {
            let text = read(out.path(), &file);
            if file.starts_with("talos/") && text.contains("factory.talos.dev/") {
                for image in text
                    .split_whitespace()
                    .filter(|w| w.contains("-installer/") || w.contains("/installer/"))
                {
                    assert!(
                        image.contains(id.as_str()),
                        "{name} {file}: {image} is not schematic {id}"
                    );
                }
            }
        }
    }
}

#[test]
fn pve8_virtio_nics_on_a_jumbo_bridge_inherit_its_mtu() {
    // DESIGN §3: on PVE 8 a virtio NIC needs `mtu=1` to inherit a jumbo bridge's MTU.
    let mut nics_checked = 0;
    for intent in fixture_intents() {
        let pve = intent_field(&intent, &["proxmox", "version"]).unwrap_or_default();
        let bridge = intent_field(&intent, &["network", "bridge"]).unwrap_or_default();
        let bridge_mtu: u32 = intent_field(&intent, &["proxmox", "bridges", &bridge, "mtu"])
            .and_then(|m| m.parse().ok())
            .unwrap_or(1500);
        if pve != "8" || bridge_mtu <= 1500 {
            continue;
        }
        let out = build_into_temp_dir(&intent);
        for file in files_under(out.path())
            .iter()
            .filter(|f| f.ends_with(".conf"))
        {
            for line in read(out.path(), file)
                .lines()
                .filter(|l| l.starts_with("net"))
            {
                nics_checked += 1;
                assert!(
                    line.contains("virtio=") && line.split(',').any(|p| p == "mtu=1"),
                    "{} {file}: `{line}` does not inherit the bridge MTU",
                    intent.display()
                );
            }
        }
    }
    assert!(
        nics_checked > 0,
        "no fixture targets PVE 8 with a jumbo bridge"
    );
}
