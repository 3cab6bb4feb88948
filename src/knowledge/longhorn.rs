//! What talhorn knows about the Longhorn Helm chart, per chart version: which values keys exist,
//! which keys moved between versions, which settings take per-data-engine values, and the value
//! ranges the manager enforces. Facts and citations: `shared/research/longhorn.md`.
//!
//! The chart ships no values schema, so Helm silently ignores a misspelt or moved key; this module
//! is what notices. [`validate_values`] reports `LHN005` (moved key), `INT002` (unknown key) and
//! `INT003` (invalid value) over a parsed values document.

use crate::finding::{Finding, Severity};
use crate::source::{FileId, Location, Span};
use crate::yaml::{Node, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Chart versions
// ---------------------------------------------------------------------------------------------

/// A Longhorn chart version as written by the user: `1.10.2`, `v1.10.2` or `1.10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChartVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
}

/// Why a chart version string could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartVersionError {
    pub input: String,
}

impl fmt::Display for ChartVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a Longhorn chart version; write MAJOR.MINOR.PATCH such as `1.10.2` (a leading `v` is allowed)",
            self.input
        )
    }
}

impl std::error::Error for ChartVersionError {}

impl FromStr for ChartVersion {
    type Err = ChartVersionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = || ChartVersionError {
            input: input.to_string(),
        };
        let trimmed = input.trim();
        let digits = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let parts: Vec<&str> = digits.split('.').collect();
        let number = |part: &str| -> Result<u32, ChartVersionError> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error());
            }
            part.parse().map_err(|_| error())
        };
        match parts.as_slice() {
            [major, minor] => Ok(Self::new(number(major)?, number(minor)?, None)),
            [major, minor, patch] => Ok(Self::new(
                number(major)?,
                number(minor)?,
                Some(number(patch)?),
            )),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for ChartVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(patch) => write!(f, "{}.{}.{patch}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// Whether talhorn has tables for a chart version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    Supported,
    /// Older than every chart talhorn has key tables for (before 1.8): its values keys and
    /// values are not checked (only the backup keys that moved in 1.8, LHN005), but the
    /// settings talhorn reads are still read, by name ([`effective_setting`], [`backup_keys`]).
    TooOld,
    /// Newer than every chart talhorn knows; checked against the newest known one.
    Newer(ChartVersion),
}

impl ChartVersion {
    pub const fn new(major: u32, minor: u32, patch: Option<u32>) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    pub fn parse(input: &str) -> Result<Self, ChartVersionError> {
        input.parse()
    }

    /// `1.10` for `1.10.2`: what the tables are keyed by.
    pub fn minor_line(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    pub fn support(&self) -> Support {
        let newest = newest_chart();
        let oldest = oldest_chart();
        if (self.major, self.minor) < (1, oldest.minor) {
            Support::TooOld
        } else if (self.major, self.minor) > (1, newest.minor) {
            Support::Newer(newest.version())
        } else {
            Support::Supported
        }
    }

    /// The facts for this version: its own minor line, or the newest known for a newer chart.
    fn facts(&self) -> Option<&'static ChartFacts> {
        match self.support() {
            Support::Supported => CHARTS.iter().find(|c| c.minor == self.minor),
            Support::Newer(_) => Some(newest_chart()),
            Support::TooOld => None,
        }
    }

    /// The minor number used to match version ranges; a newer major counts as newer than all.
    const fn ordinal(&self) -> u32 {
        match self.major {
            0 => 0,
            1 => self.minor,
            _ => u32::MAX,
        }
    }
}

/// The chart versions talhorn has tables for, each from that line's newest release.
pub fn known_versions() -> impl Iterator<Item = ChartVersion> {
    CHARTS.iter().map(ChartFacts::version)
}

// ---------------------------------------------------------------------------------------------
// Per-version facts
// ---------------------------------------------------------------------------------------------

/// A data engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    V1,
    V2,
}

impl Engine {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "v1" => Some(Self::V1),
            "v2" => Some(Self::V2),
            _ => None,
        }
    }
}

const V1: &[Engine] = &[Engine::V1];
const V2: &[Engine] = &[Engine::V2];
const BOTH: &[Engine] = &[Engine::V1, Engine::V2];

/// How a chart line takes the V2 engine's memory size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V2MemoryFormat {
    /// A plain number of MiB (`v2DataEngineHugepageLimit: 2048`).
    PlainMib,
    /// A per-engine JSON string (`dataEngineMemorySize: '{"v2":"2048"}'`).
    PerEngineJson,
}

struct ChartFacts {
    minor: u32,
    /// The release whose `values.yaml` the key table was derived from.
    release: u32,
    keys: &'static str,
    v2_memory_key: &'static str,
    v2_memory_format: V2MemoryFormat,
    /// The values.yaml comment calls V2 experimental (LHN009).
    v2_experimental: bool,
    /// `defaultSettings` keys the manager reads per data engine, with the engines of their
    /// default (the set a per-engine value must have). Empty before 1.10.
    engine_specific: &'static [(&'static str, &'static [Engine])],
}

impl ChartFacts {
    const fn version(&self) -> ChartVersion {
        ChartVersion::new(1, self.minor, Some(self.release))
    }

    fn engines_of(&self, setting: &str) -> Option<&'static [Engine]> {
        self.engine_specific
            .iter()
            .find(|(name, _)| *name == setting)
            .map(|(_, engines)| *engines)
    }

    const fn has_per_engine_values(&self) -> bool {
        !self.engine_specific.is_empty()
    }
}

/// Data-engine-specific settings that reach the manager through the 1.10 chart
/// [MGR-1.10.2 types/setting.go `DataEngineSpecific: true`; LH-1.10.2 default-setting.yaml].
const ENGINE_SPECIFIC_1_10: &[(&str, &[Engine])] = &[
    ("dataEngineCPUMask", V2),
    ("dataEngineHugepageEnabled", V2),
    ("dataEngineLogFlags", V2),
    ("dataEngineLogLevel", V2),
    ("dataEngineMemorySize", V2),
    ("defaultReplicaCount", BOTH),
    ("disableRevisionCounter", V1),
    ("engineReplicaTimeout", BOTH),
    ("fastReplicaRebuildEnabled", BOTH),
    ("freezeFilesystemForSnapshot", V1),
    ("guaranteedInstanceManagerCPU", BOTH),
    ("offlineReplicaRebuilding", BOTH),
    ("replicaRebuildingBandwidthLimit", V2),
    ("snapshotDataIntegrity", BOTH),
    ("snapshotDataIntegrityCronjob", BOTH),
    (
        "snapshotDataIntegrityImmediateCheckAfterSnapshotCreation",
        BOTH,
    ),
];

/// 1.11: `offlineReplicaRebuilding` is no longer engine-specific; interrupt mode and the ublk
/// settings are [MGR-1.11.3 types/setting.go].
const ENGINE_SPECIFIC_1_11: &[(&str, &[Engine])] = &[
    ("dataEngineCPUMask", V2),
    ("dataEngineHugepageEnabled", V2),
    ("dataEngineInterruptModeEnabled", V2),
    ("dataEngineLogFlags", V2),
    ("dataEngineLogLevel", V2),
    ("dataEngineMemorySize", V2),
    ("defaultReplicaCount", BOTH),
    ("defaultUblkNumberOfQueue", V2),
    ("defaultUblkQueueDepth", V2),
    ("disableRevisionCounter", V1),
    ("engineReplicaTimeout", BOTH),
    ("fastReplicaRebuildEnabled", BOTH),
    ("freezeFilesystemForSnapshot", V1),
    ("guaranteedInstanceManagerCPU", BOTH),
    ("replicaRebuildingBandwidthLimit", V2),
    ("snapshotDataIntegrity", BOTH),
    ("snapshotDataIntegrityCronjob", BOTH),
    (
        "snapshotDataIntegrityImmediateCheckAfterSnapshotCreation",
        BOTH,
    ),
];

/// 1.12 adds the V2 CPU isolation, core count and iobuf pool settings [MGR-1.12.1 types/setting.go].
const ENGINE_SPECIFIC_1_12: &[(&str, &[Engine])] = &[
    ("dataEngineCPUIsolationEnabled", V2),
    ("dataEngineCPUMask", V2),
    ("dataEngineHugepageEnabled", V2),
    ("dataEngineInterruptModeEnabled", V2),
    ("dataEngineIobufLargePoolSize", V2),
    ("dataEngineIobufSmallPoolSize", V2),
    ("dataEngineLogFlags", V2),
    ("dataEngineLogLevel", V2),
    ("dataEngineMemorySize", V2),
    ("dataEngineNumberOfCPUCores", V2),
    ("defaultReplicaCount", BOTH),
    ("defaultUblkNumberOfQueue", V2),
    ("defaultUblkQueueDepth", V2),
    ("disableRevisionCounter", V1),
    ("engineReplicaTimeout", BOTH),
    ("fastReplicaRebuildEnabled", BOTH),
    ("freezeFilesystemForSnapshot", V1),
    ("guaranteedInstanceManagerCPU", BOTH),
    ("replicaRebuildingBandwidthLimit", V2),
    ("snapshotDataIntegrity", BOTH),
    ("snapshotDataIntegrityCronjob", BOTH),
    (
        "snapshotDataIntegrityImmediateCheckAfterSnapshotCreation",
        BOTH,
    ),
];

/// `defaultSettings` keys whose value shape talhorn does not judge on ≥1.10:
/// `systemManagedCSIComponentsResourceLimits` takes a JSON object by design (values.yaml comment),
/// and the chart renders `rebuildConcurrentSyncLimit` under a name the manager does not read.
const SHAPE_UNCHECKED: &[&str] = &[
    "systemManagedCSIComponentsResourceLimits",
    "rebuildConcurrentSyncLimit",
];

const CHARTS: [ChartFacts; 5] = [
    ChartFacts {
        minor: 8,
        release: 2,
        keys: include_str!("../../data/longhorn/1.8.2.keys"),
        v2_memory_key: "defaultSettings.v2DataEngineHugepageLimit",
        v2_memory_format: V2MemoryFormat::PlainMib,
        v2_experimental: true,
        engine_specific: &[],
    },
    ChartFacts {
        minor: 9,
        release: 2,
        keys: include_str!("../../data/longhorn/1.9.2.keys"),
        v2_memory_key: "defaultSettings.v2DataEngineHugepageLimit",
        v2_memory_format: V2MemoryFormat::PlainMib,
        v2_experimental: true,
        engine_specific: &[],
    },
    ChartFacts {
        minor: 10,
        release: 2,
        keys: include_str!("../../data/longhorn/1.10.2.keys"),
        v2_memory_key: "defaultSettings.dataEngineMemorySize",
        v2_memory_format: V2MemoryFormat::PerEngineJson,
        v2_experimental: true,
        engine_specific: ENGINE_SPECIFIC_1_10,
    },
    ChartFacts {
        minor: 11,
        release: 3,
        keys: include_str!("../../data/longhorn/1.11.3.keys"),
        v2_memory_key: "defaultSettings.dataEngineMemorySize",
        v2_memory_format: V2MemoryFormat::PerEngineJson,
        v2_experimental: true,
        engine_specific: ENGINE_SPECIFIC_1_11,
    },
    ChartFacts {
        minor: 12,
        release: 1,
        keys: include_str!("../../data/longhorn/1.12.1.keys"),
        v2_memory_key: "defaultSettings.dataEngineMemorySize",
        v2_memory_format: V2MemoryFormat::PerEngineJson,
        // The 1.12.1 values.yaml comment no longer calls V2 experimental.
        v2_experimental: false,
        engine_specific: ENGINE_SPECIFIC_1_12,
    },
];

/// `CHARTS` is sorted by minor line (a unit test checks it); both ends are checked at compile time.
const OLDEST: &ChartFacts = &CHARTS[0];
const NEWEST: &ChartFacts = &CHARTS[CHARTS.len() - 1];

const fn newest_chart() -> &'static ChartFacts {
    NEWEST
}

const fn oldest_chart() -> &'static ChartFacts {
    OLDEST
}

// ---------------------------------------------------------------------------------------------
// Key tables
// ---------------------------------------------------------------------------------------------

/// What a values key is, from the derived table.
#[derive(Debug)]
enum KeyNode {
    /// A value the chart reads as a whole.
    Leaf,
    /// Free-form content (labels, tolerations, extra objects, ...): nothing under it is checked.
    Open,
    /// A mapping with chart-defined keys.
    Section(BTreeMap<String, KeyNode>),
}

impl KeyNode {
    fn child(&self, name: &str) -> Option<&Self> {
        match self {
            Self::Section(children) => children.get(name),
            Self::Leaf | Self::Open => None,
        }
    }

    fn insert(&mut self, segments: &[&str], open: bool) {
        let Some((first, rest)) = segments.split_first() else {
            return;
        };
        if !matches!(self, Self::Section(_)) {
            *self = Self::Section(BTreeMap::new());
        }
        if let Self::Section(children) = self {
            let child = children.entry((*first).to_string()).or_insert(Self::Leaf);
            if rest.is_empty() {
                if open {
                    *child = Self::Open;
                }
            } else {
                child.insert(rest, open);
            }
        }
    }

    fn lookup(&self, segments: &[&str]) -> Option<&Self> {
        segments
            .iter()
            .try_fold(self, |node, segment| node.child(segment))
    }

    fn collect_leaf_paths(&self, prefix: &str, out: &mut Vec<String>) {
        if let Self::Section(children) = self {
            for (name, child) in children {
                let path = join_path(prefix, name);
                match child {
                    Self::Section(_) => child.collect_leaf_paths(&path, out),
                    Self::Leaf | Self::Open => out.push(path),
                }
            }
        }
    }
}

fn parse_key_table(text: &str) -> KeyNode {
    let mut root = KeyNode::Section(BTreeMap::new());
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (path, open) = match line.strip_suffix(".*") {
            Some(path) => (path, true),
            None => (line, false),
        };
        let segments: Vec<&str> = path.split('.').collect();
        root.insert(&segments, open);
    }
    root
}

/// The parsed key table of a chart line (parsed once, on first use; a run parses only the
/// lines it meets, not every line talhorn knows).
fn key_tree(facts: &ChartFacts) -> &'static KeyNode {
    static TREES: [OnceLock<KeyNode>; CHARTS.len()] = [const { OnceLock::new() }; CHARTS.len()];
    // `facts` always comes from `CHARTS`, so the lookup finds its tree; `NO_KEYS` only keeps
    // this total.
    static NO_KEYS: KeyNode = KeyNode::Leaf;
    CHARTS
        .iter()
        .zip(&TREES)
        .find(|(chart, _)| chart.minor == facts.minor)
        .map_or(&NO_KEYS, |(chart, tree)| {
            tree.get_or_init(|| parse_key_table(chart.keys))
        })
}

fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Whether `path` (dotted, e.g. `defaultSettings.defaultDataPath`) is a values key of that chart,
/// or lies under a free-form key. The generator asserts every key it emits with this.
pub fn values_key_exists(chart: &ChartVersion, path: &str) -> bool {
    let Some(facts) = chart.facts() else {
        return false;
    };
    let segments: Vec<&str> = path.split('.').collect();
    let mut node = key_tree(facts);
    for segment in segments {
        match node {
            KeyNode::Open => return true,
            KeyNode::Leaf => return false,
            KeyNode::Section(children) => match children.get(segment) {
                Some(child) => node = child,
                None => return false,
            },
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Moved keys (LHN005)
// ---------------------------------------------------------------------------------------------

/// Chart minor lines `from..=to` (1.x); `to: None` means "and every later line".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinorRange {
    pub from: u32,
    pub to: Option<u32>,
}

impl MinorRange {
    const fn since(from: u32) -> Self {
        Self { from, to: None }
    }

    const fn between(from: u32, to: u32) -> Self {
        Self { from, to: Some(to) }
    }

    pub fn contains(&self, chart: &ChartVersion) -> bool {
        let minor = chart.ordinal();
        minor >= self.from && self.to.is_none_or(|to| minor <= to)
    }
}

/// A key that a chart version ignores because it moved or was renamed (LHN005).
#[derive(Debug)]
pub struct MovedKey {
    /// Dotted values path: `defaultSettings.backupTarget`.
    pub path: &'static str,
    /// Chart lines that ignore it.
    pub ignored_on: MinorRange,
    /// What to write instead on those lines, if anything.
    pub replacement: Option<&'static str>,
    pub explanation: &'static str,
    pub severity: Severity,
}

/// Every moved key talhorn knows [research §9.2 rules 4–6].
pub const MOVED_KEYS: &[MovedKey] = &[
    MovedKey {
        path: "defaultSettings.backupTarget",
        ignored_on: MinorRange::since(8),
        replacement: Some("defaultBackupStore.backupTarget"),
        explanation: "Since chart 1.8 the backup target is a BackupTarget resource set from `defaultBackupStore`; no template reads the old setting.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.backupTargetCredentialSecret",
        ignored_on: MinorRange::since(8),
        replacement: Some("defaultBackupStore.backupTargetCredentialSecret"),
        explanation: "Since chart 1.8 the backup target is a BackupTarget resource set from `defaultBackupStore`; no template reads the old setting.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.backupstorePollInterval",
        ignored_on: MinorRange::since(8),
        replacement: Some("defaultBackupStore.pollInterval"),
        explanation: "Since chart 1.8 the backup target is a BackupTarget resource set from `defaultBackupStore`; no template reads the old setting.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultBackupStore.backupTarget",
        ignored_on: MinorRange::between(0, 7),
        replacement: Some("defaultSettings.backupTarget"),
        explanation: "`defaultBackupStore` arrived in chart 1.8; before it the backup target is the `backup-target` setting, written under `defaultSettings`.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultBackupStore.backupTargetCredentialSecret",
        ignored_on: MinorRange::between(0, 7),
        replacement: Some("defaultSettings.backupTargetCredentialSecret"),
        explanation: "`defaultBackupStore` arrived in chart 1.8; before it the backup target is the `backup-target` setting, written under `defaultSettings`.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultBackupStore.pollInterval",
        ignored_on: MinorRange::between(0, 7),
        replacement: Some("defaultSettings.backupstorePollInterval"),
        explanation: "`defaultBackupStore` arrived in chart 1.8; before it the backup target is the `backup-target` setting, written under `defaultSettings`.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.v2DataEngineHugepageLimit",
        ignored_on: MinorRange::since(10),
        replacement: Some("defaultSettings.dataEngineMemorySize"),
        explanation: "Chart 1.10 renamed the V2 memory size; write it per engine in MiB, e.g. '{\"v2\":\"2048\"}'.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.v2DataEngineGuaranteedInstanceManagerCPU",
        ignored_on: MinorRange::since(10),
        replacement: Some("defaultSettings.guaranteedInstanceManagerCPU"),
        explanation: "Chart 1.10 folded it into `guaranteedInstanceManagerCPU`, whose v2 value is a percentage of the node's CPU (0-40), not millicpu, e.g. '{\"v1\":\"12\",\"v2\":\"12\"}'.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.v2DataEngineCPUMask",
        ignored_on: MinorRange::since(10),
        replacement: Some("defaultSettings.dataEngineCPUMask"),
        explanation: "Chart 1.10 renamed the V2 CPU mask, e.g. '{\"v2\":\"0x1\"}'.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.v2DataEngineLogLevel",
        ignored_on: MinorRange::since(10),
        replacement: Some("defaultSettings.dataEngineLogLevel"),
        explanation: "Chart 1.10 renamed the V2 log level, e.g. '{\"v2\":\"Notice\"}'.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.v2DataEngineLogFlags",
        ignored_on: MinorRange::since(10),
        replacement: Some("defaultSettings.dataEngineLogFlags"),
        explanation: "Chart 1.10 renamed the V2 log flags.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.v2DataEngineSnapshotDataIntegrity",
        ignored_on: MinorRange::since(10),
        replacement: Some("defaultSettings.snapshotDataIntegrity"),
        explanation: "Chart 1.10 folded it into `snapshotDataIntegrity`, whose v2 value it was, e.g. '{\"v1\":\"fast-check\",\"v2\":\"fast-check\"}'.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.dataEngineMemorySize",
        ignored_on: MinorRange::between(8, 9),
        replacement: Some("defaultSettings.v2DataEngineHugepageLimit"),
        explanation: "This name arrived in chart 1.10; before it the V2 hugepage size is a plain number of MiB, e.g. 2048.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.dataEngineCPUMask",
        ignored_on: MinorRange::between(8, 9),
        replacement: Some("defaultSettings.v2DataEngineCPUMask"),
        explanation: "This name arrived in chart 1.10; before it the V2 CPU mask is a plain value, e.g. \"0x1\".",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.dataEngineLogLevel",
        ignored_on: MinorRange::between(8, 9),
        replacement: Some("defaultSettings.v2DataEngineLogLevel"),
        explanation: "This name arrived in chart 1.10; before it the V2 log level is a plain value, e.g. Notice.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.dataEngineLogFlags",
        ignored_on: MinorRange::between(8, 9),
        replacement: Some("defaultSettings.v2DataEngineLogFlags"),
        explanation: "This name arrived in chart 1.10; before it the V2 log flags are a plain value.",
        severity: Severity::Error,
    },
    MovedKey {
        path: "defaultSettings.dataEngineInterruptModeEnabled",
        ignored_on: MinorRange::between(8, 10),
        replacement: None,
        explanation: "The chart exposes V2 interrupt mode from 1.11; earlier charts never render it, so polling mode (the default) stays on.",
        severity: Severity::Warning,
    },
];

/// The moved-key entry for `path` on this chart, if that chart ignores it.
pub fn moved_key(chart: &ChartVersion, path: &str) -> Option<&'static MovedKey> {
    MOVED_KEYS
        .iter()
        .find(|m| m.path == path && m.ignored_on.contains(chart))
}

// ---------------------------------------------------------------------------------------------
// Helpers for the generator and the cross-layer rules
// ---------------------------------------------------------------------------------------------

/// The two replica-count keys; both should be set to the same count [research §1.4].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaKeys {
    /// The default StorageClass's `numberOfReplicas`: every PVC through it.
    pub storage_class: &'static str,
    /// The `default-replica-count` setting: volumes created in the UI or API.
    pub default_setting: &'static str,
}

const REPLICA_KEYS: ReplicaKeys = ReplicaKeys {
    storage_class: "persistence.defaultClassReplicaCount",
    default_setting: "defaultSettings.defaultReplicaCount",
};

/// The name of the StorageClass the chart makes from `persistence.defaultClass*` (hard-coded
/// in `chart/templates/storageclass.yaml`, v1.0.0 … v1.12.1).
pub const CHART_CLASS: &str = "longhorn";

/// Replica counts the manager and the StorageClass accept (1.8–1.12: 1 to 20).
pub const REPLICA_COUNT_RANGE: RangeInclusive<i64> = 1..=20;

pub fn keys_for_replicas(chart: &ChartVersion) -> Option<ReplicaKeys> {
    chart.facts().map(|_| REPLICA_KEYS)
}

pub fn replica_count_range(chart: &ChartVersion) -> Option<RangeInclusive<i64>> {
    chart.facts().map(|_| REPLICA_COUNT_RANGE)
}

/// Where the default backup target lives (≥1.8: `defaultBackupStore.*`; before:
/// `defaultSettings.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupKeys {
    pub target: &'static str,
    pub credential_secret: &'static str,
    pub poll_interval: &'static str,
}

/// The backup keys of the charts talhorn has tables for (1.8 on), also read when the chart
/// version is unknown.
pub const BACKUP_STORE_KEYS: BackupKeys = BackupKeys {
    target: "defaultBackupStore.backupTarget",
    credential_secret: "defaultBackupStore.backupTargetCredentialSecret",
    poll_interval: "defaultBackupStore.pollInterval",
};

/// Before 1.8 the backup target is a setting like any other [LH-1.7.3 chart/values.yaml,
/// default-setting.yaml; research §1.2].
const SETTING_BACKUP_KEYS: BackupKeys = BackupKeys {
    target: "defaultSettings.backupTarget",
    credential_secret: "defaultSettings.backupTargetCredentialSecret",
    poll_interval: "defaultSettings.backupstorePollInterval",
};

/// The backup keys of a chart: `defaultBackupStore.*` from 1.8, `defaultSettings.*` before
/// (also on the charts older than the key tables, whose backup keys talhorn knows).
pub fn backup_keys(chart: &ChartVersion) -> Option<BackupKeys> {
    Some(match chart.support() {
        Support::TooOld => SETTING_BACKUP_KEYS,
        Support::Supported | Support::Newer(_) => BACKUP_STORE_KEYS,
    })
}

/// The keys the backup credential Secret holds, by backup target scheme (Longhorn docs
/// "Setting a Backup Target": S3, CIFS, Azure Blob; NFS needs no Secret).
pub const BACKUP_SECRET_KEYS: &[(&str, &[&str])] = &[
    ("s3://", &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
    ("cifs://", &["CIFS_USERNAME", "CIFS_PASSWORD"]),
    ("azblob://", &["AZBLOB_ACCOUNT_NAME", "AZBLOB_ACCOUNT_KEY"]),
];

/// The Secret keys a backup target needs (empty for NFS or an unknown scheme).
pub fn backup_secret_keys(target: &str) -> &'static [&'static str] {
    BACKUP_SECRET_KEYS
        .iter()
        .find(|(scheme, _)| target.starts_with(scheme))
        .map_or(&[], |(_, keys)| keys)
}

/// A Helm value to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelmValue {
    Bool(bool),
    Int(i64),
    Str(String),
}

/// How to turn the V2 data engine on for a chart version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Settings {
    /// Dotted key paths and their values, in the order to write them.
    pub values: Vec<(&'static str, HelmValue)>,
    /// The chart calls V2 experimental (LHN009).
    pub experimental: bool,
}

/// The values that enable V2 with `memory_mib` of SPDK memory (hugepages) per node.
pub fn v2_settings(chart: &ChartVersion, memory_mib: u32) -> Option<V2Settings> {
    let facts = chart.facts()?;
    let memory = match facts.v2_memory_format {
        V2MemoryFormat::PlainMib => HelmValue::Int(i64::from(memory_mib)),
        V2MemoryFormat::PerEngineJson => HelmValue::Str(format!("{{\"v2\":\"{memory_mib}\"}}")),
    };
    Some(V2Settings {
        values: vec![
            ("defaultSettings.v2DataEngine", HelmValue::Bool(true)),
            (facts.v2_memory_key, memory),
        ],
        experimental: facts.v2_experimental,
    })
}

/// The key that holds the V2 memory size (hugepages) on that chart.
pub fn v2_memory_key(chart: &ChartVersion) -> Option<&'static str> {
    chart.facts().map(|f| f.v2_memory_key)
}

/// `defaultSettings` keys talhorn reads that arrived after chart 1.0, with the minor line that
/// first renders them (`chart/templates/default-setting.yaml` at v1.4.4, v1.5.5, v1.6.4,
/// v1.7.3; the 1.10 names per research §1.2). On a chart older than the key tables, every
/// other `defaultSettings` key talhorn reads is read by name: they exist from 1.0 on
/// (`defaultDataPath`, `defaultReplicaCount`, `createDefaultDiskLabeledNodes`,
/// `replicaSoftAntiAffinity`, `backupTarget`, `backupTargetCredentialSecret`; v1.0.0
/// `chart/values.yaml`).
const SETTINGS_ARRIVED: &[(&str, u32)] = &[
    ("v2DataEngine", 5),
    ("v2DataEngineHugepageLimit", 6),
    ("dataEngineMemorySize", 10),
    ("dataEngineHugepageEnabled", 10),
];

/// Whether a chart older than the key tables renders `defaultSettings.<name>`: unless talhorn
/// knows the setting arrived later.
fn old_chart_renders(chart: &ChartVersion, name: &str) -> bool {
    SETTINGS_ARRIVED
        .iter()
        .find(|(setting, _)| *setting == name)
        .is_none_or(|(_, since)| MinorRange::since(*since).contains(chart))
}

/// A `defaultSettings` value as the manager will apply it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingValue {
    /// One value for every engine (a plain scalar).
    Uniform(String),
    /// Per-engine values (≥1.10: a JSON string or a map).
    PerEngine(BTreeMap<Engine, String>),
}

impl SettingValue {
    /// The value for one engine: a uniform value applies to every engine.
    pub fn for_engine(&self, engine: Engine) -> Option<&str> {
        match self {
            Self::Uniform(value) => Some(value),
            Self::PerEngine(values) => values.get(&engine).map(String::as_str),
        }
    }
}

/// Reads `defaultSettings.<name>` the way the manager will: `None` when it is unset, null, or a
/// value the manager rejects and replaces by its default (a per-engine value before 1.10, a
/// malformed one on ≥1.10). Returns the value node for locations.
///
/// A chart older than the key tables ([`Support::TooOld`]) is read by name, as its template
/// renders every `defaultSettings` key raw: a user's value is never replaced by a default
/// because talhorn has no table for the chart. Only a setting talhorn knows arrived in a later
/// chart ([`SETTINGS_ARRIVED`]) is left unread there, as that chart ignores it.
pub fn effective_setting<'a>(
    values: &'a Node,
    name: &str,
    chart: &ChartVersion,
) -> Option<(&'a Node, SettingValue)> {
    let facts = chart.facts();
    if facts.is_none() && !old_chart_renders(chart, name) {
        return None;
    }
    let node = values.path(&["defaultSettings", name])?;
    let value = match read_setting_shape(node)? {
        SettingShape::Scalar(text) => SettingValue::Uniform(text),
        SettingShape::PerEngine(_) if SHAPE_UNCHECKED.contains(&name) => {
            SettingValue::Uniform(node.scalar_text()?)
        }
        SettingShape::PerEngine(entries) => {
            // No chart before 1.10 has per-engine values: the manager rejects one.
            let engines = facts?.engines_of(name)?;
            let mut parsed = BTreeMap::new();
            for entry in &entries {
                parsed.insert(Engine::parse(&entry.engine)?, entry.value.clone()?);
            }
            let expected: BTreeSet<Engine> = engines.iter().copied().collect();
            if parsed.keys().copied().collect::<BTreeSet<_>>() != expected {
                return None;
            }
            SettingValue::PerEngine(parsed)
        }
        SettingShape::BadJson(_) => return None,
    };
    Some((node, value))
}

// ---------------------------------------------------------------------------------------------
// Backup targets (LHN008)
// ---------------------------------------------------------------------------------------------

/// The backup store kinds Longhorn supports [MGR-1.10.2 datastore/longhorn.go].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupScheme {
    S3,
    Nfs,
    Cifs,
    AzBlob,
}

impl BackupScheme {
    fn parse(scheme: &str) -> Option<Self> {
        match scheme {
            "s3" => Some(Self::S3),
            "nfs" => Some(Self::Nfs),
            "cifs" => Some(Self::Cifs),
            "azblob" => Some(Self::AzBlob),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Nfs => "nfs",
            Self::Cifs => "cifs",
            Self::AzBlob => "azblob",
        }
    }

    /// `s3`, `cifs` and `azblob` cannot be reached without a credential secret.
    pub const fn needs_credential_secret(self) -> bool {
        !matches!(self, Self::Nfs)
    }
}

/// One thing wrong with a backup target URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackupTargetProblem {
    /// No `scheme://` at all.
    MissingScheme,
    UnknownScheme(String),
    MissingCredentialSecret(BackupScheme),
    /// `$` or `,` in the path (`$` is allowed for CIFS, where it marks a hidden share).
    ForbiddenCharacter(char),
    /// `s3://bucket/` without `@region`.
    MissingRegion,
    /// `s3://` or `azblob://` without a bucket/container before `@`.
    MissingBucket,
    /// The URL does not end in `/`.
    MissingTrailingSlash,
}

impl BackupTargetProblem {
    /// LHN008 severities: what stops backups is an error, what the docs warn about a warning.
    pub const fn severity(&self) -> Severity {
        match self {
            Self::MissingRegion | Self::MissingTrailingSlash => Severity::Warning,
            Self::MissingScheme
            | Self::UnknownScheme(_)
            | Self::MissingCredentialSecret(_)
            | Self::ForbiddenCharacter(_)
            | Self::MissingBucket => Severity::Error,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::MissingScheme => {
                "the backup target has no scheme; write s3://, nfs://, cifs:// or azblob://".into()
            }
            Self::UnknownScheme(scheme) => format!(
                "backup target scheme `{scheme}` is not supported by Longhorn; use s3, nfs, cifs or azblob"
            ),
            Self::MissingCredentialSecret(scheme) => format!(
                "a `{}` backup target needs `backupTargetCredentialSecret` (a Secret in longhorn-system); Longhorn cannot reach it without one",
                scheme.as_str()
            ),
            Self::ForbiddenCharacter(c) => {
                format!("the backup target path contains `{c}`, which Longhorn rejects")
            }
            Self::MissingRegion => {
                "the S3 backup target has no region; write s3://<bucket>@<region>/<path>/".into()
            }
            Self::MissingBucket => {
                "the backup target names no bucket or container before `@`".into()
            }
            Self::MissingTrailingSlash => {
                "the backup target does not end in `/`; Longhorn's docs require the trailing slash"
                    .into()
            }
        }
    }
}

/// A backup target URL split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupTarget {
    pub scheme: BackupScheme,
    /// What follows `scheme://` up to the first `/` (`bucket@region`, `server:`, `server`).
    pub authority: String,
    /// From the first `/` after the authority, without the query.
    pub path: String,
}

/// The node annotation whose JSON array lists the disks Longhorn creates on a node labelled
/// `node.longhorn.io/create-default-disk: config`.
pub const DEFAULT_DISKS_CONFIG: &str = "node.longhorn.io/default-disks-config";

/// The tags of each disk in a `node.longhorn.io/default-disks-config` annotation, or `None` when
/// Longhorn ignores the whole annotation: not a JSON array of objects, an entry without a
/// `path`, a path or name listed twice, or tags that are not a list of strings
/// (longhorn-manager `types.UnmarshalToDisks` and its validation; talhorn research
/// `longhorn.md` §4).
pub fn default_disk_tags(annotation: &str) -> Option<Vec<Vec<String>>> {
    let disks: Vec<serde_json::Value> = serde_json::from_str(annotation).ok()?;
    let mut paths = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut tags = Vec::with_capacity(disks.len());
    for disk in &disks {
        let disk = disk.as_object()?;
        let path = disk
            .get("path")?
            .as_str()
            .filter(|p| !p.trim().is_empty())?;
        if !paths.insert(path) {
            return None;
        }
        if let Some(name) = disk.get("name").and_then(serde_json::Value::as_str)
            && !names.insert(name)
        {
            return None;
        }
        let disk_tags = match disk.get("tags") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(list) => list
                .as_array()?
                .iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
        };
        tags.push(disk_tags);
    }
    Some(tags)
}

/// Parses a backup target URL: `Ok` with the parts, or the problem that prevents reading it.
pub fn parse_backup_target(url: &str) -> Result<BackupTarget, BackupTargetProblem> {
    let (scheme, rest) = url
        .trim()
        .split_once("://")
        .ok_or(BackupTargetProblem::MissingScheme)?;
    let scheme = BackupScheme::parse(scheme)
        .ok_or_else(|| BackupTargetProblem::UnknownScheme(scheme.to_string()))?;
    let without_query = rest.split_once('?').map_or(rest, |(before, _)| before);
    let (authority, path) = match without_query.find('/') {
        Some(slash) => without_query.split_at(slash),
        None => (without_query, ""),
    };
    Ok(BackupTarget {
        scheme,
        authority: authority.to_string(),
        path: path.to_string(),
    })
}

/// `s3://<bucket>@<region>/` and `azblob://<container>@<endpoint>/` name a bucket; S3 needs a region.
fn bucket_problem(target: &BackupTarget) -> Option<BackupTargetProblem> {
    let is_s3 = target.scheme == BackupScheme::S3;
    if !is_s3 && target.scheme != BackupScheme::AzBlob {
        return None;
    }
    match target.authority.split_once('@') {
        Some(("", _)) => Some(BackupTargetProblem::MissingBucket),
        Some((_, "")) | None if is_s3 => Some(BackupTargetProblem::MissingRegion),
        Some(_) | None => None,
    }
}

/// Every problem with a backup target URL and its credential secret (empty means fine).
pub fn check_backup_target(url: &str, credential_secret: Option<&str>) -> Vec<BackupTargetProblem> {
    let target = match parse_backup_target(url) {
        Ok(target) => target,
        Err(problem) => return vec![problem],
    };
    let mut problems = Vec::new();
    let has_secret = credential_secret.is_some_and(|s| !s.trim().is_empty());
    if target.scheme.needs_credential_secret() && !has_secret {
        problems.push(BackupTargetProblem::MissingCredentialSecret(target.scheme));
    }
    let forbidden: &[char] = if target.scheme == BackupScheme::Cifs {
        &[',']
    } else {
        &['$', ',']
    };
    if let Some(c) = target.path.chars().find(|c| forbidden.contains(c)) {
        problems.push(BackupTargetProblem::ForbiddenCharacter(c));
    }
    problems.extend(bucket_problem(&target));
    let without_query = url
        .trim()
        .split_once('?')
        .map_or(url.trim(), |(before, _)| before);
    if matches!(target.scheme, BackupScheme::S3 | BackupScheme::AzBlob)
        && !without_query.ends_with('/')
    {
        problems.push(BackupTargetProblem::MissingTrailingSlash);
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Value checks (INT003)
// ---------------------------------------------------------------------------------------------

const NODE_DOWN_POD_DELETION_POLICIES: &[&str] = &[
    "do-nothing",
    "delete-statefulset-pod",
    "delete-deployment-pod",
    "delete-both-statefulset-and-deployment-pod",
];

const NODE_DRAIN_POLICIES: &[&str] = &[
    "block-if-contains-last-replica",
    "allow-if-replica-is-stopped",
    "always-allow",
    "block-for-eviction",
    "block-for-eviction-if-contains-last-replica",
];

const TAINT_EFFECTS: &[&str] = &["", "NoSchedule", "PreferNoSchedule", "NoExecute"];

#[derive(Debug)]
enum ValueCheck {
    Integer(RangeInclusive<i64>),
    Number(RangeInclusive<f64>),
    OneOf(&'static [&'static str]),
    Tolerations,
    NodeSelector,
}

/// A value constraint on one key for some chart lines [research §9.2 rules 9–12].
struct ValueRule {
    path: &'static str,
    on: MinorRange,
    check: ValueCheck,
}

const VALUE_RULES: &[ValueRule] = &[
    ValueRule {
        path: "persistence.defaultClassReplicaCount",
        on: MinorRange::since(8),
        check: ValueCheck::Integer(REPLICA_COUNT_RANGE),
    },
    ValueRule {
        path: "defaultSettings.defaultReplicaCount",
        on: MinorRange::since(8),
        check: ValueCheck::Integer(REPLICA_COUNT_RANGE),
    },
    ValueRule {
        path: "defaultSettings.guaranteedInstanceManagerCPU",
        on: MinorRange::between(8, 9),
        check: ValueCheck::Integer(0..=40),
    },
    ValueRule {
        path: "defaultSettings.guaranteedInstanceManagerCPU",
        on: MinorRange::since(10),
        check: ValueCheck::Number(0.0..=40.0),
    },
    ValueRule {
        path: "defaultSettings.v2DataEngineGuaranteedInstanceManagerCPU",
        on: MinorRange::between(8, 8),
        check: ValueCheck::Integer(1000..=8000),
    },
    ValueRule {
        path: "defaultSettings.v2DataEngineGuaranteedInstanceManagerCPU",
        on: MinorRange::between(9, 9),
        check: ValueCheck::Integer(1000..=i64::MAX),
    },
    ValueRule {
        path: "defaultSettings.storageMinimalAvailablePercentage",
        on: MinorRange::since(8),
        check: ValueCheck::Integer(0..=100),
    },
    ValueRule {
        path: "defaultSettings.storageReservedPercentageForDefaultDisk",
        on: MinorRange::since(8),
        check: ValueCheck::Integer(0..=100),
    },
    ValueRule {
        path: "defaultSettings.storageOverProvisioningPercentage",
        on: MinorRange::since(8),
        check: ValueCheck::Integer(0..=i64::MAX),
    },
    ValueRule {
        path: "defaultSettings.nodeDownPodDeletionPolicy",
        on: MinorRange::since(8),
        check: ValueCheck::OneOf(NODE_DOWN_POD_DELETION_POLICIES),
    },
    ValueRule {
        path: "defaultSettings.nodeDrainPolicy",
        on: MinorRange::since(8),
        check: ValueCheck::OneOf(NODE_DRAIN_POLICIES),
    },
    ValueRule {
        path: "defaultSettings.taintToleration",
        on: MinorRange::since(8),
        check: ValueCheck::Tolerations,
    },
    ValueRule {
        path: "defaultSettings.systemManagedComponentsNodeSelector",
        on: MinorRange::since(8),
        check: ValueCheck::NodeSelector,
    },
    ValueRule {
        path: "persistence.dataEngine",
        on: MinorRange::since(8),
        check: ValueCheck::OneOf(&["v1", "v2"]),
    },
];

/// Checks one scalar text against a constraint; `Err` is what is wrong, for the message.
fn check_value(check: &ValueCheck, text: &str) -> Result<(), String> {
    let text = text.trim();
    match check {
        ValueCheck::Integer(range) => match text.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(()),
            Ok(n) => Err(format!(
                "{n} is out of range; {}",
                describe_int_range(range)
            )),
            Err(_) => Err(format!(
                "`{text}` is not a whole number; {}",
                describe_int_range(range)
            )),
        },
        ValueCheck::Number(range) => match text.parse::<f64>() {
            Ok(n) if range.contains(&n) => Ok(()),
            Ok(n) => Err(format!(
                "{n} is out of range; it must be {} to {}",
                range.start(),
                range.end()
            )),
            Err(_) => Err(format!(
                "`{text}` is not a number; it must be {} to {}",
                range.start(),
                range.end()
            )),
        },
        ValueCheck::OneOf(choices) if choices.contains(&text) => Ok(()),
        ValueCheck::OneOf(choices) => {
            Err(format!("`{text}` is not one of {}", quote_list(choices)))
        }
        ValueCheck::Tolerations => check_tolerations(text),
        ValueCheck::NodeSelector => check_node_selector(text),
    }
}

fn describe_int_range(range: &RangeInclusive<i64>) -> String {
    if *range.end() == i64::MAX {
        format!("it must be at least {}", range.start())
    } else {
        format!("it must be {} to {}", range.start(), range.end())
    }
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `key[=value]:Effect` separated by `;`, spaces ignored [MGR-1.10.2 `UnmarshalTolerations`].
fn check_tolerations(text: &str) -> Result<(), String> {
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    if compact.is_empty() {
        return Ok(());
    }
    for item in compact.split(';') {
        let parts: Vec<&str> = item.split(':').collect();
        let [_, effect] = parts.as_slice() else {
            return Err(format!(
                "toleration `{item}` is not `key=value:Effect` or `key:Effect` (separate several with `;`)"
            ));
        };
        if !TAINT_EFFECTS.contains(effect) {
            return Err(format!(
                "toleration `{item}` has effect `{effect}`; use NoSchedule, PreferNoSchedule, NoExecute or nothing"
            ));
        }
    }
    Ok(())
}

/// `key:value` separated by `;` [MGR-1.10.2 `UnmarshalNodeSelector`].
fn check_node_selector(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    for label in text.split(';') {
        if label.trim().split(':').count() != 2 {
            return Err(format!(
                "node selector label `{label}` is not `key:value` (separate several with `;`)"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Per-engine setting values
// ---------------------------------------------------------------------------------------------

/// One `engine: value` pair of a per-engine value.
struct EngineEntry {
    engine: String,
    /// `None` when the value is not a string (the manager needs `{"v1":"3"}`, not `{"v1":3}`).
    value: Option<String>,
    /// Where the pair's value is (the whole string for a JSON value).
    span: Span,
}

enum SettingShape {
    Scalar(String),
    PerEngine(Vec<EngineEntry>),
    /// A string that starts like a JSON object but is not one; the parser's message.
    BadJson(String),
}

/// Classifies a setting value: a scalar, a per-engine map/JSON object, or broken JSON. `None` for
/// null and for lists (no setting takes a list).
fn read_setting_shape(node: &Node) -> Option<SettingShape> {
    match &node.value {
        Value::Null | Value::Seq(_) => None,
        Value::Map(entries) => Some(SettingShape::PerEngine(
            entries
                .iter()
                .map(|(key, value)| EngineEntry {
                    engine: key.scalar_text().unwrap_or_default(),
                    value: value.as_str().map(str::to_string),
                    span: value.span,
                })
                .collect(),
        )),
        Value::Str(text) if text.trim_start().starts_with('{') => Some(
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
                Ok(object) => SettingShape::PerEngine(
                    object
                        .into_iter()
                        .map(|(engine, value)| EngineEntry {
                            engine,
                            value: value.as_str().map(str::to_string),
                            span: node.span,
                        })
                        .collect(),
                ),
                Err(error) => SettingShape::BadJson(error.to_string()),
            },
        ),
        _ => node.scalar_text().map(SettingShape::Scalar),
    }
}

// ---------------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------------

const NUMBER_OF_REPLICAS_HELP: &str = "Longhorn has no `numberOfReplicas` Helm value (it is a StorageClass parameter). Set `persistence.defaultClassReplicaCount` (the default StorageClass, used by every PVC through it) and `defaultSettings.defaultReplicaCount` (volumes created in the Longhorn UI) to the same count.";

/// Checks a Helm values document for the Longhorn chart `chart`: moved keys (LHN005), unknown
/// keys (INT002) and invalid values (INT003). On a chart older than 1.8, which has no key
/// table, only the keys known to have moved are reported (`defaultBackupStore.*`, from 1.8);
/// a chart newer than talhorn knows is checked against the newest known one, with unknown keys
/// reported as warnings.
pub fn validate_values(file: FileId, values: &Node, chart: &ChartVersion) -> Vec<Finding> {
    let Some(facts) = chart.facts() else {
        return moved_keys_of_an_old_chart(file, values, chart);
    };
    let mut validator = Validator {
        file,
        chart,
        facts,
        tree: key_tree(facts),
        findings: Vec::new(),
    };
    match values.as_map() {
        Some(entries) => validator.walk(&[], entries),
        None if values.is_null() => {}
        None => validator.push(Finding::new(
            "INT003",
            Severity::Error,
            Location::new(file, values.span),
            format!("Helm values must be a mapping, not {}", values.type_name()),
        )),
    }
    validator.findings
}

/// The moved keys (LHN005) a chart without a key table ignores, where the values set them.
fn moved_keys_of_an_old_chart(file: FileId, values: &Node, chart: &ChartVersion) -> Vec<Finding> {
    MOVED_KEYS
        .iter()
        .filter(|moved| moved.ignored_on.contains(chart))
        .filter_map(|moved| {
            let (parent, name) = moved.path.rsplit_once('.')?;
            let segments: Vec<&str> = parent.split('.').collect();
            let (key, _) = values.path(&segments)?.entry(name)?;
            Some(moved_finding(
                moved,
                chart,
                moved.path,
                Location::new(file, key.span),
            ))
        })
        .collect()
}

/// LHN005 for a key this chart ignores, at the key.
fn moved_finding(moved: &MovedKey, chart: &ChartVersion, dotted: &str, at: Location) -> Finding {
    let line = chart.minor_line();
    let message = match moved.replacement {
        Some(replacement) => {
            format!("`{dotted}` is ignored by Longhorn chart {line}; use `{replacement}` instead")
        }
        None => format!("`{dotted}` is ignored by Longhorn chart {line}"),
    };
    Finding::new("LHN005", moved.severity, at, message).help(moved.explanation)
}

struct Validator<'a> {
    file: FileId,
    chart: &'a ChartVersion,
    facts: &'static ChartFacts,
    tree: &'static KeyNode,
    findings: Vec<Finding>,
}

impl Validator<'_> {
    fn at(&self, span: Span) -> Location {
        Location::new(self.file, span)
    }

    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn walk(&mut self, parent: &[&str], entries: &[(Node, Node)]) {
        for (key, value) in entries {
            let Some(name) = key.scalar_text() else {
                self.push(Finding::new(
                    "INT002",
                    Severity::Error,
                    self.at(key.span),
                    format!(
                        "a Helm values key must be a string, not {}",
                        key.type_name()
                    ),
                ));
                continue;
            };
            let mut path: Vec<&str> = parent.to_vec();
            path.push(&name);
            self.check_entry(&path, key, value);
        }
    }

    fn check_entry(&mut self, path: &[&str], key: &Node, value: &Node) {
        let dotted = path.join(".");
        // A key written flat (`defaultSettings.backupTarget:` at the root) is not the nested key.
        let nested = path.iter().all(|segment| !segment.contains('.'));
        if let Some(moved) = moved_key(self.chart, &dotted).filter(|_| nested) {
            self.report_moved(moved, &dotted, key);
            return;
        }
        match self.tree.lookup(path) {
            Some(KeyNode::Open) => {}
            Some(KeyNode::Leaf) => self.check_leaf_value(&dotted, path, value),
            Some(KeyNode::Section(_)) => match value.as_map() {
                Some(children) => self.walk(path, children),
                None if value.is_null() => {}
                None => self.push(Finding::new(
                    "INT003",
                    Severity::Error,
                    self.at(value.span),
                    format!(
                        "`{dotted}` must be a mapping of chart settings, not {}",
                        value.type_name()
                    ),
                )),
            },
            None => self.report_missing_key(path, &dotted, key),
        }
    }

    fn report_moved(&mut self, moved: &MovedKey, dotted: &str, key: &Node) {
        let finding = moved_finding(moved, self.chart, dotted, self.at(key.span));
        self.push(finding);
    }

    fn report_missing_key(&mut self, path: &[&str], dotted: &str, key: &Node) {
        let (severity, checked_against) = self.unknown_key_severity();
        let line = self.chart.minor_line();
        let lines_with_key = self.other_lines_with(path);
        if !lines_with_key.is_empty() {
            let message = format!(
                "`{dotted}` is not a value of Longhorn chart {line}{checked_against}, so Helm ignores it; it exists in chart {}",
                describe_lines(&lines_with_key)
            );
            self.push(
                Finding::new("LHN005", severity, self.at(key.span), message)
                    .help("Remove it, or use a chart version that has it."),
            );
            return;
        }
        let message = format!(
            "`{dotted}` is not a value of Longhorn chart {line}{checked_against}; Helm silently ignores it"
        );
        let mut finding = Finding::new("INT002", severity, self.at(key.span), message);
        if let Some(help) = self.suggest(path) {
            finding = finding.help(help);
        }
        self.push(finding);
    }

    /// A key missing from the table is certain on a known chart; on a newer chart it may be new,
    /// so it is only a warning, and the message says which table was used.
    fn unknown_key_severity(&self) -> (Severity, String) {
        match self.chart.support() {
            Support::Newer(known) => (
                Severity::Warning,
                format!(" (checked against {known}, the newest chart talhorn knows)"),
            ),
            Support::Supported | Support::TooOld => (Severity::Error, String::new()),
        }
    }

    /// Chart lines (other than this one) whose values have `path`.
    fn other_lines_with(&self, path: &[&str]) -> Vec<u32> {
        CHARTS
            .iter()
            .filter(|c| c.minor != self.facts.minor)
            .filter(|c| key_tree(c).lookup(path).is_some())
            .map(|c| c.minor)
            .collect()
    }

    fn suggest(&self, path: &[&str]) -> Option<String> {
        let (name, parent) = path.split_last()?;
        if name.eq_ignore_ascii_case("numberOfReplicas") {
            return Some(NUMBER_OF_REPLICAS_HELP.to_string());
        }
        if name.contains('.') {
            let nested: Vec<&str> = parent.iter().copied().chain(name.split('.')).collect();
            if self.tree.lookup(&nested).is_some() {
                return Some(format!(
                    "Helm values are nested: write `{}` as nested mappings, one key per level.",
                    nested.join(".")
                ));
            }
        }
        if let Some(found) = self.same_name_anywhere(name) {
            let same_section =
                found.rsplit_once('.').map_or("", |(section, _)| section) == parent.join(".");
            return Some(if same_section {
                format!("did you mean `{found}`?")
            } else {
                format!("did you mean `{found}`? (that key lives in another section)")
            });
        }
        self.similar_sibling(parent, name)
            .map(|sibling| format!("did you mean `{}`?", join_path(&parent.join("."), &sibling)))
    }

    fn similar_sibling(&self, parent: &[&str], name: &str) -> Option<String> {
        let KeyNode::Section(children) = self.tree.lookup(parent)? else {
            return None;
        };
        let wanted = name.to_ascii_lowercase();
        children
            .keys()
            .map(|candidate| {
                (
                    strsim::jaro_winkler(&wanted, &candidate.to_ascii_lowercase()),
                    candidate,
                )
            })
            .filter(|(score, _)| *score >= 0.85)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, candidate)| candidate.clone())
    }

    /// A key with this name, ignoring case, anywhere in the chart: a wrong section or wrong case.
    fn same_name_anywhere(&self, name: &str) -> Option<String> {
        let mut paths = Vec::new();
        self.tree.collect_leaf_paths("", &mut paths);
        paths.into_iter().find(|p| {
            p.rsplit('.')
                .next()
                .is_some_and(|last| last.eq_ignore_ascii_case(name))
        })
    }

    fn check_leaf_value(&mut self, dotted: &str, path: &[&str], value: &Node) {
        if value.is_null() {
            return;
        }
        if let ["defaultSettings", setting] = path
            && let Some(shape) = read_setting_shape(value)
        {
            match shape {
                SettingShape::Scalar(text) => self.check_rules(dotted, &text, value.span),
                shape => self.check_per_engine(dotted, setting, shape, value),
            }
            return;
        }
        match value.scalar_text() {
            Some(text) => self.check_rules(dotted, &text, value.span),
            None if self.rules_for(dotted).next().is_some() => self.invalid(
                value.span,
                format!("`{dotted}` takes a single value, not {}", value.type_name()),
            ),
            None => {}
        }
    }

    fn rules_for(&self, dotted: &str) -> impl Iterator<Item = &'static ValueRule> {
        VALUE_RULES
            .iter()
            .filter(move |r| r.path == dotted && r.on.contains(self.chart))
    }

    fn check_rules(&mut self, dotted: &str, text: &str, span: Span) {
        let problems: Vec<String> = self
            .rules_for(dotted)
            .filter_map(|r| check_value(&r.check, text).err())
            .collect();
        for problem in problems {
            self.push(
                Finding::new(
                    "INT003",
                    Severity::Error,
                    self.at(span),
                    format!("invalid `{dotted}`: {problem}"),
                )
                .help("Longhorn skips an invalid setting and keeps its built-in default."),
            );
        }
    }

    /// A map or JSON value on a `defaultSettings` key: LHN005 before 1.10 (no per-engine values
    /// yet), otherwise INT003 unless it is a well-formed per-engine value of an engine-specific
    /// setting [research §9.2 rules 7–8].
    fn check_per_engine(&mut self, dotted: &str, setting: &str, shape: SettingShape, value: &Node) {
        if !self.facts.has_per_engine_values() {
            self.push(
                Finding::new(
                    "LHN005",
                    Severity::Error,
                    self.at(value.span),
                    format!(
                        "`{dotted}` has a per-data-engine value, which Longhorn chart {} does not understand (it arrived in 1.10)",
                        self.chart.minor_line()
                    ),
                )
                .help("Write one plain value, e.g. `defaultReplicaCount: 3`; the manager rejects this one and keeps its default."),
            );
            return;
        }
        if SHAPE_UNCHECKED.contains(&setting) {
            return;
        }
        let entries = match shape {
            SettingShape::PerEngine(entries) => entries,
            SettingShape::BadJson(error) => {
                self.invalid(
                    value.span,
                    format!("`{dotted}` looks like JSON but is not valid JSON: {error}"),
                );
                return;
            }
            SettingShape::Scalar(_) => return,
        };
        let Some(engines) = self.facts.engines_of(setting) else {
            self.invalid(
                value.span,
                format!("`{dotted}` takes one value for all data engines; the manager rejects a per-engine value"),
            );
            return;
        };
        self.check_engine_entries(dotted, engines, &entries, value.span);
    }

    fn check_engine_entries(
        &mut self,
        dotted: &str,
        engines: &[Engine],
        entries: &[EngineEntry],
        span: Span,
    ) {
        let expected: Vec<&str> = engines.iter().map(|e| e.as_str()).collect();
        let given: BTreeSet<&str> = entries.iter().map(|e| e.engine.as_str()).collect();
        let wanted: BTreeSet<&str> = expected.iter().copied().collect();
        if given != wanted || given.len() != entries.len() {
            let example = expected
                .iter()
                .map(|e| format!("\"{e}\":\"...\""))
                .collect::<Vec<_>>()
                .join(",");
            self.invalid(
                span,
                format!(
                    "`{dotted}` must give exactly the engines {} per engine (e.g. '{{{example}}}'), or one plain value for all",
                    quote_list(&expected)
                ),
            );
        }
        for entry in entries {
            match &entry.value {
                None => self.invalid(
                    entry.span,
                    format!(
                        "the `{}` value of `{dotted}` must be a quoted string (write \"3\", not 3)",
                        entry.engine
                    ),
                ),
                Some(text) => self.check_rules(dotted, text, entry.span),
            }
        }
    }

    fn invalid(&mut self, span: Span, message: String) {
        self.push(
            Finding::new("INT003", Severity::Error, self.at(span), message)
                .help("Longhorn skips an invalid setting and keeps its built-in default."),
        );
    }
}

/// `1.8` / `1.10-1.12` / `1.9, 1.11` for messages.
fn describe_lines(minors: &[u32]) -> String {
    let contiguous = minors
        .windows(2)
        .all(|w| matches!(w, [a, b] if a + 1 == *b));
    match (minors.first(), minors.last()) {
        (Some(first), Some(last)) if first == last => format!("1.{first}"),
        (Some(first), Some(last)) if contiguous => format!("1.{first}-1.{last}"),
        _ => minors
            .iter()
            .map(|m| format!("1.{m}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_disks_config_gives_each_disk_its_tags_or_nothing() {
        let config = r#"[{"path":"/var/mnt/a","allowScheduling":true},
            {"name":"fast","path":"/var/mnt/b","tags":["ssd","fast"]}]"#;
        assert_eq!(
            default_disk_tags(config),
            Some(vec![vec![], vec!["ssd".to_owned(), "fast".to_owned()]])
        );
        assert_eq!(default_disk_tags("[]"), Some(vec![]));
        assert_eq!(default_disk_tags(r#"[{"tags":["ssd"]}]"#), None);
        assert_eq!(default_disk_tags(r#"[{"path":"/a"},{"path":"/a"}]"#), None);
        assert_eq!(default_disk_tags(r#"[{"path":"/a","tags":"ssd"}]"#), None);
        assert_eq!(default_disk_tags("ssd"), None);
    }

    #[test]
    fn charts_are_sorted_by_minor_line() {
        assert!(CHARTS.windows(2).all(|w| w[0].minor < w[1].minor));
    }

    /// A typo in a hand-written table would silently disable a check; every key they name must
    /// be a values key of the lines they apply to.
    #[test]
    fn hand_written_tables_name_real_keys() {
        for facts in &CHARTS {
            let version = facts.version();
            for (setting, _) in facts.engine_specific {
                let path = format!("defaultSettings.{setting}");
                assert!(values_key_exists(&version, &path), "{path} on {version}");
            }
            for rule in VALUE_RULES.iter().filter(|r| r.on.contains(&version)) {
                assert!(
                    values_key_exists(&version, rule.path),
                    "{} on {version}",
                    rule.path
                );
            }
        }
        for setting in SHAPE_UNCHECKED {
            let path = format!("defaultSettings.{setting}");
            assert!(
                CHARTS
                    .iter()
                    .any(|f| values_key_exists(&f.version(), &path)),
                "{path}"
            );
        }
    }

    #[test]
    fn describe_lines_joins_ranges_and_lists() {
        assert_eq!(describe_lines(&[11]), "1.11");
        assert_eq!(describe_lines(&[10, 11, 12]), "1.10-1.12");
        assert_eq!(describe_lines(&[8, 12]), "1.8, 1.12");
    }

    #[test]
    fn tolerations_follow_the_manager_format() {
        assert!(check_tolerations("key=value:NoSchedule; other:NoExecute").is_ok());
        assert!(check_tolerations("key:").is_ok());
        assert!(check_tolerations("").is_ok());
        assert!(check_tolerations("key=value").is_err());
        assert!(check_tolerations("key=value:Sometimes").is_err());
        assert!(check_tolerations("a:NoSchedule;").is_err());
    }

    #[test]
    fn node_selector_needs_key_colon_value() {
        assert!(check_node_selector("kubernetes.io/os:linux;zone:a").is_ok());
        assert!(check_node_selector("zone=a").is_err());
    }

    #[test]
    fn key_table_lines_build_sections_and_open_keys() {
        let tree = parse_key_table("# comment\na.b\na.c.*\nd\n");
        assert!(matches!(tree.lookup(&["a", "b"]), Some(KeyNode::Leaf)));
        assert!(matches!(tree.lookup(&["a", "c"]), Some(KeyNode::Open)));
        assert!(matches!(tree.lookup(&["a"]), Some(KeyNode::Section(_))));
        assert!(matches!(tree.lookup(&["d"]), Some(KeyNode::Leaf)));
        assert!(tree.lookup(&["a", "x"]).is_none());
    }
}
