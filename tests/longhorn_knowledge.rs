//! Longhorn chart knowledge: derived key tables, moved keys, value checks, helpers.

mod common;
#[path = "../tools/derive_longhorn_keys.rs"]
mod derive_longhorn_keys;

use std::path::{Path, PathBuf};
use talhorn::finding::{Finding, Severity};
use talhorn::knowledge::longhorn::{
    BackupScheme, BackupTargetProblem, ChartVersion, Engine, HelmValue, MOVED_KEYS, SettingValue,
    Support, backup_keys, check_backup_target, effective_setting, keys_for_replicas,
    known_versions, moved_key, parse_backup_target, replica_count_range, v2_memory_key,
    v2_settings, validate_values, values_key_exists,
};
use talhorn::source::{FileId, Span};
use talhorn::yaml::parse_document;

fn chart(version: &str) -> ChartVersion {
    ChartVersion::parse(version).expect("test chart versions are valid")
}

fn validate(version: &str, text: &str) -> Vec<Finding> {
    let values = parse_document(text).expect("test values parse");
    validate_values(FileId(0), &values, &chart(version))
}

/// The span of the `nth` (0-based) occurrence of `needle` in `text`.
fn span_of(text: &str, needle: &str, nth: usize) -> Span {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("`{needle}` occurs fewer than {} times", nth + 1));
    Span::new(start, start + needle.len())
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

fn only(findings: &[Finding]) -> &Finding {
    assert_eq!(findings.len(), 1, "expected one finding, got {findings:#?}");
    &findings[0]
}

fn upstream_values(shared: &Path, version: &ChartVersion) -> PathBuf {
    shared
        .join("upstream/longhorn")
        .join(version.to_string())
        .join("values.yaml")
}

// ----- derived tables ---------------------------------------------------------------------------

#[test]
fn key_tables_match_upstream_values() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let regenerate = std::env::var_os("TALHORN_REGENERATE").is_some();
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/longhorn");
    for version in known_versions() {
        let text = std::fs::read_to_string(upstream_values(&shared, &version))
            .expect("upstream values.yaml");
        let values = parse_document(&text).expect("upstream values.yaml parses");
        let derived = derive_longhorn_keys::derive_key_table(&version.to_string(), &values)
            .expect("derivable");
        let table_path = data_dir.join(format!("{version}.keys"));
        if regenerate {
            std::fs::write(&table_path, &derived).expect("write key table");
            continue;
        }
        let embedded = std::fs::read_to_string(&table_path).unwrap_or_default();
        assert!(
            embedded == derived,
            "{} is stale; regenerate with TALHORN_REGENERATE=1 cargo test --test longhorn_knowledge",
            table_path.display()
        );
    }
}

#[test]
fn every_upstream_chart_has_a_table() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut upstream: Vec<String> = std::fs::read_dir(shared.join("upstream/longhorn"))
        .expect("upstream/longhorn is a directory")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("values.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    upstream.sort();
    let mut known: Vec<String> = known_versions().map(|v| v.to_string()).collect();
    known.sort();
    assert_eq!(known, upstream);
}

#[test]
fn every_version_accepts_its_own_values_yaml() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    for version in known_versions() {
        let text = std::fs::read_to_string(upstream_values(&shared, &version))
            .expect("upstream values.yaml");
        let values = parse_document(&text).expect("parses");
        let findings = validate_values(FileId(0), &values, &version);
        assert!(findings.is_empty(), "{version}: {findings:#?}");
    }
}

#[test]
fn tables_know_free_form_and_nested_keys() {
    let v110 = chart("1.10.2");
    assert!(values_key_exists(&v110, "defaultSettings.defaultDataPath"));
    assert!(values_key_exists(
        &v110,
        "persistence.defaultClassReplicaCount"
    ));
    // Free-form: anything below is accepted.
    assert!(values_key_exists(
        &v110,
        "longhornManager.nodeSelector.storage"
    ));
    assert!(values_key_exists(&v110, "longhornUI.affinity.nodeAffinity"));
    // A section with chart-defined keys is checked below.
    assert!(!values_key_exists(&v110, "persistence.numberOfReplicas"));
    assert!(!values_key_exists(&v110, "numberOfReplicas"));
    // Keys added in later lines.
    assert!(!values_key_exists(
        &v110,
        "defaultSettings.dataEngineInterruptModeEnabled"
    ));
    assert!(values_key_exists(
        &chart("1.11.3"),
        "defaultSettings.dataEngineInterruptModeEnabled"
    ));
}

// ----- versions -------------------------------------------------------------------------------

#[test]
fn chart_versions_parse_with_or_without_v() {
    assert_eq!(chart("1.10.2"), ChartVersion::new(1, 10, Some(2)));
    assert_eq!(chart("v1.9.2"), ChartVersion::new(1, 9, Some(2)));
    assert_eq!(chart("1.11"), ChartVersion::new(1, 11, None));
    for bad in [
        "",
        "1",
        "1.x.2",
        "1.10.2.3",
        "v",
        "1..2",
        "latest",
        "-1.2.3",
        "1.10.2-rc1",
    ] {
        let error = ChartVersion::parse(bad).expect_err(bad);
        assert!(error.to_string().contains("1.10.2"), "{error}");
    }
}

#[test]
fn support_is_known_too_old_or_newer() {
    assert_eq!(chart("1.8.0").support(), Support::Supported);
    assert_eq!(chart("1.12.9").support(), Support::Supported);
    assert_eq!(chart("1.7.3").support(), Support::TooOld);
    assert_eq!(chart("0.9.0").support(), Support::TooOld);
    assert_eq!(chart("1.13.0").support(), Support::Newer(chart("1.12.1")));
    assert_eq!(chart("2.0.0").support(), Support::Newer(chart("1.12.1")));
}

#[test]
fn too_old_chart_is_not_checked_and_newer_warns_on_unknown_keys() {
    assert!(validate("1.7.3", "numberOfReplicas: 3\n").is_empty());
    // The 1.7 backup keys are not judged by a 1.8 table.
    let old_backup = "defaultSettings:\n  backupTarget: nfs://nas:/backups\n  madeUp: 1\n";
    assert!(validate("1.7.3", old_backup).is_empty());
    let findings = validate("1.13.0", "numberOfReplicas: 3\n");
    let finding = only(&findings);
    assert_eq!(
        (finding.code, finding.severity),
        ("INT002", Severity::Warning)
    );
    assert!(finding.message.contains("1.12.1"), "{}", finding.message);
}

#[test]
fn the_backup_store_before_1_8_is_a_moved_key() {
    let text = "defaultBackupStore:\n  backupTarget: nfs://nas:/backups\n  pollInterval: 300\n";
    for version in ["1.7.3", "1.6.2", "1.4.0"] {
        let findings = validate(version, text);
        assert_eq!(codes(&findings), ["LHN005", "LHN005"], "{version}");
        assert_eq!(findings[0].at.span, span_of(text, "backupTarget", 0));
        assert!(
            findings[0]
                .message
                .contains("use `defaultSettings.backupTarget`"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[1]
                .message
                .contains("use `defaultSettings.backupstorePollInterval`"),
            "{}",
            findings[1].message
        );
    }
    assert!(validate("1.8.2", text).is_empty());
}

#[test]
fn a_chart_older_than_the_tables_is_read_by_name() {
    let values = parse_document(
        "defaultSettings:\n  defaultDataPath: /var/mnt/longhorn\n  defaultReplicaCount: 1\n  createDefaultDiskLabeledNodes: true\n  v2DataEngine: true\n  v2DataEngineHugepageLimit: 1024\n  dataEngineMemorySize: 4096\n  guaranteedInstanceManagerCPU: '{\"v1\":\"12\"}'\n",
    )
    .expect("parses");
    let v16 = chart("1.6.2");
    let read = |name: &str, version: &ChartVersion| {
        effective_setting(&values, name, version).map(|(_, value)| value)
    };
    let uniform = |text: &str| Some(SettingValue::Uniform(text.into()));
    assert_eq!(read("defaultDataPath", &v16), uniform("/var/mnt/longhorn"));
    assert_eq!(read("defaultReplicaCount", &v16), uniform("1"));
    assert_eq!(read("createDefaultDiskLabeledNodes", &v16), uniform("true"));
    assert_eq!(read("v2DataEngine", &v16), uniform("true"));
    assert_eq!(read("v2DataEngineHugepageLimit", &v16), uniform("1024"));
    // Settings that arrived later are ignored by the chart, so not read.
    assert_eq!(read("v2DataEngineHugepageLimit", &chart("1.5.5")), None);
    assert_eq!(read("v2DataEngine", &chart("1.4.4")), None);
    assert_eq!(read("dataEngineMemorySize", &v16), None);
    // No per-engine values before 1.10: the manager keeps its default.
    assert_eq!(read("guaranteedInstanceManagerCPU", &v16), None);
}

#[test]
fn backup_keys_follow_the_1_8_move() {
    let old = backup_keys(&chart("1.7.3")).expect("known");
    assert_eq!(old.target, "defaultSettings.backupTarget");
    assert_eq!(
        old.credential_secret,
        "defaultSettings.backupTargetCredentialSecret"
    );
    let new = backup_keys(&chart("1.8.0")).expect("known");
    assert_eq!(new.target, "defaultBackupStore.backupTarget");
    assert_eq!(backup_keys(&chart("1.13.0")), Some(new));
}

// ----- INT002 ---------------------------------------------------------------------------------

#[test]
fn number_of_replicas_is_unknown_with_the_two_real_keys_as_help() {
    let text = "persistence:\n  defaultClass: true\nnumberOfReplicas: 3\n";
    let findings = validate("1.10.2", text);
    let finding = only(&findings);
    assert_eq!(finding.code, "INT002");
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.at.span, span_of(text, "numberOfReplicas", 0));
    let help = finding.help.as_deref().unwrap_or_default();
    assert!(
        help.contains("persistence.defaultClassReplicaCount"),
        "{help}"
    );
    assert!(
        help.contains("defaultSettings.defaultReplicaCount"),
        "{help}"
    );
}

#[test]
fn misspelt_key_gets_did_you_mean() {
    let text = "defaultSettings:\n  guaranteedInstanceManagerCpu: 12\n  defaultDataPth: /var/mnt/longhorn\n";
    let findings = validate("1.10.2", text);
    assert_eq!(codes(&findings), ["INT002", "INT002"]);
    assert_eq!(
        findings[0].at.span,
        span_of(text, "guaranteedInstanceManagerCpu", 0)
    );
    assert_eq!(
        findings[0].help.as_deref(),
        Some("did you mean `defaultSettings.guaranteedInstanceManagerCPU`?")
    );
    assert_eq!(
        findings[1].help.as_deref(),
        Some("did you mean `defaultSettings.defaultDataPath`?")
    );
}

#[test]
fn key_in_the_wrong_section_points_to_its_home() {
    let text = "defaultSettings:\n  defaultClassReplicaCount: 3\n";
    let finding = validate("1.10.2", text).remove(0);
    assert_eq!(finding.code, "INT002");
    assert!(
        finding
            .help
            .as_deref()
            .is_some_and(|h| h.contains("`persistence.defaultClassReplicaCount`")),
        "{:?}",
        finding.help
    );
}

#[test]
fn flat_dotted_key_is_unknown_and_told_to_nest() {
    let text = "defaultSettings.defaultDataPath: /var/mnt/longhorn\n";
    let finding = validate("1.9.2", text).remove(0);
    assert_eq!(finding.code, "INT002");
    assert_eq!(
        finding.at.span,
        span_of(text, "defaultSettings.defaultDataPath", 0)
    );
    assert!(
        finding
            .help
            .as_deref()
            .is_some_and(|h| h.contains("nested")),
        "{:?}",
        finding.help
    );
}

#[test]
fn free_form_subtrees_are_not_checked() {
    let text = "longhornManager:\n  nodeSelector:\n    anything.example.com/role: storage\n  tolerations:\n    - key: x\n      operator: Exists\n  serviceAnnotations:\n    foo: bar\nextraObjects:\n  - kind: ConfigMap\n";
    assert!(validate("1.10.2", text).is_empty());
}

#[test]
fn unknown_key_inside_a_section_is_reported_at_its_key() {
    let text = "persistence:\n  defaultClassReplicaCount: 3\n  replicaCount: 2\n";
    let finding = only(&validate("1.12.1", text)).clone();
    assert_eq!(finding.code, "INT002");
    assert_eq!(finding.at.span, span_of(text, "replicaCount", 0));
    assert!(finding.message.contains("persistence.replicaCount"));
}

// ----- LHN005 ---------------------------------------------------------------------------------

#[test]
fn old_backup_target_keys_are_moved_on_1_8_and_later() {
    let text = "defaultSettings:\n  backupTarget: s3://b@us-east-1/\n  backupTargetCredentialSecret: creds\n  backupstorePollInterval: 300\n";
    for version in ["1.8.2", "1.10.2", "1.12.1"] {
        let findings = validate(version, text);
        assert_eq!(
            codes(&findings),
            ["LHN005", "LHN005", "LHN005"],
            "{version}"
        );
        assert_eq!(findings[0].at.span, span_of(text, "backupTarget", 0));
        assert!(
            findings[0]
                .message
                .contains("`defaultBackupStore.backupTarget`"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[1]
                .message
                .contains("`defaultBackupStore.backupTargetCredentialSecret`")
        );
        assert!(
            findings[2]
                .message
                .contains("`defaultBackupStore.pollInterval`")
        );
        assert_eq!(
            findings[2].at.span,
            span_of(text, "backupstorePollInterval", 0)
        );
    }
}

#[test]
fn renamed_v2_keys_are_moved_on_1_10() {
    let text = "defaultSettings:\n  v2DataEngine: true\n  v2DataEngineHugepageLimit: 2048\n  v2DataEngineGuaranteedInstanceManagerCPU: 1250\n";
    let findings = validate("1.10.2", text);
    assert_eq!(codes(&findings), ["LHN005", "LHN005"]);
    assert_eq!(
        findings[0].at.span,
        span_of(text, "v2DataEngineHugepageLimit", 0)
    );
    assert!(
        findings[0]
            .message
            .contains("`defaultSettings.dataEngineMemorySize`")
    );
    assert!(
        findings[1]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("percentage"))
    );
    // The same keys are right on 1.9 (1250 millicpu is within 1000+).
    assert!(validate("1.9.2", text).is_empty());
}

#[test]
fn new_v2_names_are_moved_on_1_9() {
    let text = "defaultSettings:\n  dataEngineMemorySize: '{\"v2\":\"2048\"}'\n";
    let findings = validate("1.9.2", text);
    let finding = only(&findings);
    assert_eq!(finding.code, "LHN005");
    assert_eq!(finding.at.span, span_of(text, "dataEngineMemorySize", 0));
    assert!(
        finding
            .message
            .contains("`defaultSettings.v2DataEngineHugepageLimit`")
    );
    assert!(validate("1.10.2", text).is_empty());
}

#[test]
fn interrupt_mode_is_a_warning_on_1_10_and_valid_on_1_11() {
    let text = "defaultSettings:\n  dataEngineInterruptModeEnabled: '{\"v2\":\"true\"}'\n";
    let findings = validate("1.10.2", text);
    let finding = only(&findings);
    assert_eq!(
        (finding.code, finding.severity),
        ("LHN005", Severity::Warning)
    );
    assert!(validate("1.11.3", text).is_empty());
}

#[test]
fn key_from_another_chart_line_is_moved_not_unknown() {
    let text = "persistence:\n  createStorageClass: false\n";
    let finding = only(&validate("1.10.2", text)).clone();
    assert_eq!(finding.code, "LHN005");
    assert!(finding.message.contains("1.12"), "{}", finding.message);
    assert!(validate("1.12.1", text).is_empty());
}

#[test]
fn per_engine_values_are_moved_on_1_8_and_1_9() {
    let json = "defaultSettings:\n  defaultReplicaCount: '{\"v1\":\"3\",\"v2\":\"3\"}'\n";
    let map = "defaultSettings:\n  defaultReplicaCount:\n    v1: \"3\"\n    v2: \"3\"\n";
    for version in ["1.8.2", "1.9.2"] {
        let finding = only(&validate(version, json)).clone();
        assert_eq!(finding.code, "LHN005");
        assert_eq!(
            finding.at.span,
            span_of(json, "'{\"v1\":\"3\",\"v2\":\"3\"}'", 0)
        );
        let finding = only(&validate(version, map)).clone();
        assert_eq!(finding.code, "LHN005");
    }
    assert!(validate("1.10.2", json).is_empty());
    assert!(validate("1.10.2", map).is_empty());
}

#[test]
fn every_moved_key_is_absent_where_ignored_and_its_replacement_present() {
    for moved in MOVED_KEYS {
        for version in known_versions().filter(|v| moved.ignored_on.contains(v)) {
            assert!(
                !values_key_exists(&version, moved.path),
                "{} exists on {version}",
                moved.path
            );
            assert!(moved_key(&version, moved.path).is_some());
            if let Some(replacement) = moved.replacement {
                assert!(
                    values_key_exists(&version, replacement),
                    "{replacement} missing on {version}"
                );
            }
        }
    }
}

// ----- INT003 ---------------------------------------------------------------------------------

#[test]
fn replica_counts_must_be_1_to_20() {
    let text = "persistence:\n  defaultClassReplicaCount: 21\ndefaultSettings:\n  defaultReplicaCount: 0\n";
    for version in ["1.8.2", "1.10.2"] {
        let findings = validate(version, text);
        assert_eq!(codes(&findings), ["INT003", "INT003"], "{version}");
        assert_eq!(findings[0].at.span, span_of(text, "21", 0));
        let zero = span_of(text, "Count: 0", 0);
        assert_eq!(findings[1].at.span, Span::new(zero.end - 1, zero.end));
        assert!(
            findings[1].message.contains("1 to 20"),
            "{}",
            findings[1].message
        );
    }
    assert!(validate("1.10.2", "defaultSettings:\n  defaultReplicaCount: \"3\"\n").is_empty());
    assert_eq!(
        codes(&validate(
            "1.10.2",
            "defaultSettings:\n  defaultReplicaCount: three\n"
        )),
        ["INT003"]
    );
    assert_eq!(
        codes(&validate(
            "1.10.2",
            "persistence:\n  defaultClassReplicaCount: [3]\n"
        )),
        ["INT003"]
    );
}

#[test]
fn per_engine_replica_count_with_missing_engine_and_number_value() {
    // `{v1: 3}`: the default has v1 and v2, and the value must be a string.
    let text = "defaultSettings:\n  defaultReplicaCount: {v1: 3}\n";
    let findings = validate("1.10.2", text);
    assert_eq!(codes(&findings), ["INT003", "INT003"]);
    // A mapping's span starts at the mapping (the parser marks its first token).
    assert_eq!(findings[0].at.span.start, span_of(text, "{v1: 3}", 0).start);
    assert!(
        findings[0].message.contains("`v1`, `v2`"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[1].at.span, span_of(text, "3", 0));
    assert!(
        findings[1].message.contains("quoted string"),
        "{}",
        findings[1].message
    );
}

#[test]
fn per_engine_values_are_range_checked() {
    let text = "defaultSettings:\n  defaultReplicaCount:\n    v1: \"3\"\n    v2: \"25\"\n";
    let finding = only(&validate("1.11.3", text)).clone();
    assert_eq!(finding.code, "INT003");
    assert_eq!(finding.at.span, span_of(text, "\"25\"", 0));
}

#[test]
fn json_on_a_setting_that_is_not_engine_specific_is_invalid() {
    let text = "defaultSettings:\n  storageMinimalAvailablePercentage: '{\"v1\":\"10\"}'\n";
    let finding = only(&validate("1.10.2", text)).clone();
    assert_eq!(finding.code, "INT003");
    assert!(finding.message.contains("one value for all data engines"));
    // systemManagedCSIComponentsResourceLimits takes JSON by design (1.11+).
    let limits = "defaultSettings:\n  systemManagedCSIComponentsResourceLimits: '{\"csi-attacher\":{\"limits\":{\"cpu\":\"100m\"}}}'\n";
    assert!(validate("1.11.3", limits).is_empty());
}

#[test]
fn broken_json_is_invalid() {
    let text = "defaultSettings:\n  dataEngineMemorySize: '{\"v2\": 2048'\n";
    let finding = only(&validate("1.10.2", text)).clone();
    assert_eq!(finding.code, "INT003");
    assert!(finding.message.contains("not valid JSON"));
}

#[test]
fn percentages_policies_and_formats_are_checked() {
    let text = "defaultSettings:\n  storageMinimalAvailablePercentage: 101\n  storageOverProvisioningPercentage: -1\n  guaranteedInstanceManagerCPU: 40.5\n  nodeDownPodDeletionPolicy: delete-pods\n  nodeDrainPolicy: allow\n  taintToleration: storage=only\n  systemManagedComponentsNodeSelector: role=storage\npersistence:\n  dataEngine: v3\n";
    let findings = validate("1.10.2", text);
    assert_eq!(findings.len(), 8, "{findings:#?}");
    assert!(findings.iter().all(|f| f.code == "INT003"));
    for (finding, value) in findings.iter().zip([
        "101",
        "-1",
        "40.5",
        "delete-pods",
        "allow",
        "storage=only",
        "role=storage",
        "v3",
    ]) {
        assert_eq!(
            finding.at.span,
            span_of(text, value, 0),
            "{}",
            finding.message
        );
    }
    let fine = "defaultSettings:\n  storageMinimalAvailablePercentage: 10\n  guaranteedInstanceManagerCPU: 12.5\n  nodeDownPodDeletionPolicy: delete-both-statefulset-and-deployment-pod\n  nodeDrainPolicy: block-for-eviction\n  taintToleration: \"nodetype=storage:NoSchedule; dedicated:NoExecute\"\n  systemManagedComponentsNodeSelector: \"role:storage\"\npersistence:\n  dataEngine: v2\n";
    assert!(validate("1.10.2", fine).is_empty());
}

#[test]
fn guaranteed_cpu_is_whole_percent_before_1_10() {
    let text = "defaultSettings:\n  guaranteedInstanceManagerCPU: 12.5\n";
    assert_eq!(codes(&validate("1.9.2", text)), ["INT003"]);
    let v2 = "defaultSettings:\n  v2DataEngineGuaranteedInstanceManagerCPU: 900\n";
    assert_eq!(codes(&validate("1.8.2", v2)), ["INT003"]);
    assert!(
        validate(
            "1.9.2",
            "defaultSettings:\n  v2DataEngineGuaranteedInstanceManagerCPU: 9000\n"
        )
        .is_empty()
    );
    assert_eq!(
        codes(&validate(
            "1.8.2",
            "defaultSettings:\n  v2DataEngineGuaranteedInstanceManagerCPU: 9000\n"
        )),
        ["INT003"]
    );
}

#[test]
fn a_section_given_a_scalar_is_invalid() {
    let text = "defaultSettings: yes\n";
    let finding = only(&validate("1.10.2", text)).clone();
    assert_eq!(finding.code, "INT003");
    assert_eq!(finding.at.span, span_of(text, "yes", 0));
    assert_eq!(codes(&validate("1.10.2", "- a\n- b\n")), ["INT003"]);
}

// ----- realistic files ------------------------------------------------------------------------

const REALISTIC_1_8: &str = "\
preUpgradeChecker:
  jobEnabled: false
persistence:
  defaultClassReplicaCount: 3
  dataEngine: v2
defaultSettings:
  defaultReplicaCount: 3
  defaultDataPath: /var/lib/longhorn/
  createDefaultDiskLabeledNodes: true
  storageReservedPercentageForDefaultDisk: 0
  v2DataEngine: true
  v2DataEngineHugepageLimit: 2048
  v2DataEngineCPUMask: \"0x1\"
  taintToleration: \"storage=true:NoSchedule\"
defaultBackupStore:
  backupTarget: s3://backups@us-east-1/longhorn/
  backupTargetCredentialSecret: s3-creds
longhornManager:
  tolerations:
    - key: storage
      operator: Equal
      value: \"true\"
      effect: NoSchedule
";

const REALISTIC_1_10: &str = "\
preUpgradeChecker:
  jobEnabled: false
persistence:
  defaultClassReplicaCount: 2
  dataEngine: v1
defaultSettings:
  defaultReplicaCount: 2
  defaultDataPath: /var/mnt/longhorn
  replicaSoftAntiAffinity: false
  v2DataEngine: true
  dataEngineMemorySize: '{\"v2\":\"2048\"}'
  dataEngineHugepageEnabled:
    v2: \"true\"
  guaranteedInstanceManagerCPU: '{\"v1\":\"12\",\"v2\":\"20\"}'
  nodeDrainPolicy: block-for-eviction-if-contains-last-replica
defaultBackupStore:
  backupTarget: nfs://nas.lan:/exports/longhorn
global:
  nodeSelector:
    node.longhorn.io/storage: \"true\"
";

#[test]
fn realistic_values_are_clean_on_every_version() {
    for version in ["1.8.2", "1.9.2"] {
        let findings = validate(version, REALISTIC_1_8);
        assert!(findings.is_empty(), "{version}: {findings:#?}");
    }
    for version in ["1.10.2", "1.11.3", "1.12.1"] {
        let findings = validate(version, REALISTIC_1_10);
        assert!(findings.is_empty(), "{version}: {findings:#?}");
    }
    // And each style is wrong on the other side of 1.10.
    assert!(codes(&validate("1.10.2", REALISTIC_1_8)).contains(&"LHN005"));
    assert!(codes(&validate("1.9.2", REALISTIC_1_10)).contains(&"LHN005"));
}

// ----- helpers --------------------------------------------------------------------------------

#[test]
fn helper_keys_exist_in_every_chart() {
    for version in known_versions() {
        let replicas = keys_for_replicas(&version).expect("known");
        let backup = backup_keys(&version).expect("known");
        let v2 = v2_settings(&version, 2048).expect("known");
        let mut keys = vec![
            replicas.storage_class,
            replicas.default_setting,
            backup.target,
            backup.credential_secret,
            backup.poll_interval,
        ];
        keys.extend(v2.values.iter().map(|(k, _)| *k));
        for key in keys {
            assert!(values_key_exists(&version, key), "{key} on {version}");
        }
        assert_eq!(replica_count_range(&version), Some(1..=20));
    }
    assert!(keys_for_replicas(&chart("1.7.0")).is_none());
}

#[test]
fn v2_settings_follow_the_1_10_rename() {
    let old = v2_settings(&chart("1.9.2"), 4096).expect("known");
    assert_eq!(
        old.values,
        [
            ("defaultSettings.v2DataEngine", HelmValue::Bool(true)),
            (
                "defaultSettings.v2DataEngineHugepageLimit",
                HelmValue::Int(4096)
            ),
        ]
    );
    assert!(old.experimental);
    let new = v2_settings(&chart("1.10.2"), 2048).expect("known");
    assert_eq!(
        new.values,
        [
            ("defaultSettings.v2DataEngine", HelmValue::Bool(true)),
            (
                "defaultSettings.dataEngineMemorySize",
                HelmValue::Str("{\"v2\":\"2048\"}".into())
            ),
        ]
    );
    assert!(new.experimental);
    assert!(
        !v2_settings(&chart("1.12.1"), 2048)
            .expect("known")
            .experimental
    );
    assert_eq!(
        v2_memory_key(&chart("1.8.2")),
        Some("defaultSettings.v2DataEngineHugepageLimit")
    );
}

#[test]
fn generated_v2_values_validate_clean() {
    for version in known_versions() {
        let v2 = v2_settings(&version, 2048).expect("known");
        let mut text = String::from("defaultSettings:\n");
        for (key, value) in &v2.values {
            let name = key
                .strip_prefix("defaultSettings.")
                .expect("a default setting");
            let rendered = match value {
                HelmValue::Bool(b) => b.to_string(),
                HelmValue::Int(i) => i.to_string(),
                HelmValue::Str(s) => format!("'{s}'"),
            };
            text.push_str(&format!("  {name}: {rendered}\n"));
        }
        let findings = validate(&version.to_string(), &text);
        assert!(findings.is_empty(), "{version}: {findings:#?}");
    }
}

#[test]
fn effective_setting_reads_scalars_json_and_maps() {
    let values = parse_document(
        "defaultSettings:\n  defaultReplicaCount: '{\"v1\":\"3\",\"v2\":\"2\"}'\n  dataEngineMemorySize:\n    v2: \"4096\"\n  defaultDataPath: /var/mnt/longhorn\n  guaranteedInstanceManagerCPU: '{\"v1\":\"12\"}'\n",
    )
    .expect("parses");
    let v110 = chart("1.10.2");
    let (_, replicas) = effective_setting(&values, "defaultReplicaCount", &v110).expect("set");
    assert_eq!(replicas.for_engine(Engine::V1), Some("3"));
    assert_eq!(replicas.for_engine(Engine::V2), Some("2"));
    let (_, memory) = effective_setting(&values, "dataEngineMemorySize", &v110).expect("set");
    assert_eq!(memory.for_engine(Engine::V2), Some("4096"));
    assert_eq!(memory.for_engine(Engine::V1), None);
    let (node, path) = effective_setting(&values, "defaultDataPath", &v110).expect("set");
    assert_eq!(path, SettingValue::Uniform("/var/mnt/longhorn".into()));
    assert_eq!(node.as_str(), Some("/var/mnt/longhorn"));
    // Missing v2 engine: the manager rejects it and uses its default.
    assert!(effective_setting(&values, "guaranteedInstanceManagerCPU", &v110).is_none());
    assert!(effective_setting(&values, "v2DataEngine", &v110).is_none());
    // Before 1.10 a per-engine value is ignored.
    assert!(effective_setting(&values, "defaultReplicaCount", &chart("1.9.2")).is_none());
}

// ----- backup targets -------------------------------------------------------------------------

#[test]
fn backup_targets_parse_into_parts() {
    let target = parse_backup_target("s3://backups@us-east-1/longhorn/").expect("valid");
    assert_eq!(target.scheme, BackupScheme::S3);
    assert_eq!(target.authority, "backups@us-east-1");
    assert_eq!(target.path, "/longhorn/");
    let nfs =
        parse_backup_target("nfs://nas.lan:/exports/longhorn?nfsOptions=soft").expect("valid");
    assert_eq!(
        (nfs.scheme, nfs.authority.as_str(), nfs.path.as_str()),
        (BackupScheme::Nfs, "nas.lan:", "/exports/longhorn")
    );
    assert_eq!(
        parse_backup_target("backups/longhorn"),
        Err(BackupTargetProblem::MissingScheme)
    );
    assert_eq!(
        parse_backup_target("gs://bucket/"),
        Err(BackupTargetProblem::UnknownScheme("gs".into()))
    );
}

#[test]
fn backup_target_problems_and_severities() {
    use BackupTargetProblem as P;
    let cases: &[(&str, Option<&str>, &[P])] = &[
        ("s3://backups@us-east-1/longhorn/", Some("creds"), &[]),
        ("s3://backups@us-east-1/", Some("creds"), &[]),
        ("nfs://nas.lan:/exports/longhorn", None, &[]),
        ("cifs://nas.lan/backup$", Some("smb"), &[]),
        ("azblob://container@core.windows.net/", Some("az"), &[]),
        (
            "s3://backups@us-east-1/longhorn/",
            None,
            &[P::MissingCredentialSecret(BackupScheme::S3)],
        ),
        (
            "s3://backups@us-east-1/longhorn/",
            Some("  "),
            &[P::MissingCredentialSecret(BackupScheme::S3)],
        ),
        (
            "cifs://nas.lan/backup",
            None,
            &[P::MissingCredentialSecret(BackupScheme::Cifs)],
        ),
        ("s3://backups/longhorn/", Some("creds"), &[P::MissingRegion]),
        (
            "s3://backups@us-east-1/longhorn",
            Some("creds"),
            &[P::MissingTrailingSlash],
        ),
        ("s3://@us-east-1/", Some("creds"), &[P::MissingBucket]),
        (
            "nfs://nas.lan:/exports/a,b",
            None,
            &[P::ForbiddenCharacter(',')],
        ),
        (
            "nfs://nas.lan:/exports/$x",
            None,
            &[P::ForbiddenCharacter('$')],
        ),
        ("ftp://host/", None, &[P::UnknownScheme("ftp".into())]),
    ];
    for (url, secret, expected) in cases {
        assert_eq!(check_backup_target(url, *secret), *expected, "{url}");
    }
    assert_eq!(P::MissingRegion.severity(), Severity::Warning);
    assert_eq!(P::MissingTrailingSlash.severity(), Severity::Warning);
    assert_eq!(P::UnknownScheme("ftp".into()).severity(), Severity::Error);
    assert_eq!(
        P::MissingCredentialSecret(BackupScheme::AzBlob).severity(),
        Severity::Error
    );
    assert!(
        P::MissingCredentialSecret(BackupScheme::S3)
            .message()
            .contains("backupTargetCredentialSecret")
    );
}

#[test]
fn flat_dotted_moved_key_is_unknown_not_moved() {
    let text = "defaultSettings.backupTarget: s3://b@r/\n";
    let finding = only(&validate("1.10.2", text)).clone();
    assert_eq!(finding.code, "INT002");
}

#[test]
fn odd_documents_give_findings_not_panics() {
    let non_string_key = "1: x\n";
    assert_eq!(codes(&validate("1.10.2", non_string_key)), ["INT002"]);
    let odd = [
        "",
        "~\n",
        "defaultSettings:\n  defaultReplicaCount: 99999999999999999999999\n",
        "defaultSettings:\n  defaultReplicaCount: \"ü\"\n",
        "defaultSettings:\n  defaultReplicaCount: '{'\n",
        "defaultSettings:\n  defaultReplicaCount: {v1: [1], v2: {a: b}, ~: x}\n",
        "defaultSettings:\n  taintToleration: [a, b]\n",
        "persistence:\n  dataEngine: {}\n",
        "? [a, b]\n: c\n",
    ];
    for version in ["1.8.2", "1.10.2", "1.13.0"] {
        for text in odd {
            let _ = validate(version, text);
        }
    }
    // The out-of-range integer and the malformed per-engine map are reported, not dropped.
    assert!(!validate("1.10.2", odd[2]).is_empty());
    assert!(
        codes(&validate("1.10.2", odd[5]))
            .iter()
            .all(|c| *c == "INT003")
    );
    assert!(!validate("1.10.2", odd[5]).is_empty());
}
