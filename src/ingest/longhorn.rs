//! Longhorn and CNI files into the model: Helm values files, Flux `HelmRelease`s, Argo CD
//! `Application`s and the `longhorn-system` Namespace → [`Longhorn`]; Cilium values →
//! [`Cni`].
//!
//! Values are collected first and read once the chart version is known, because how a
//! `defaultSettings` entry is read depends on it (per-engine values from 1.10 on).

use super::embedded;
use super::yaml_facts::{Located, bool_fact, str_fact, u32_fact};
use crate::intent::GitOps;
use crate::knowledge::longhorn::{self as knowledge, ChartVersion, Engine, SettingValue};
use crate::model::Longhorn;
use crate::model::longhorn::{Namespace, NodeDisk, StorageClass, tag_list};
use crate::model::network::Cni;
use crate::source::{Fact, FileId, Location, SourceMap};
use crate::yaml::{Node, Value};

pub const NAMESPACE: &str = "longhorn-system";

/// Helm values for a chart, wherever they were written.
#[derive(Debug, Clone)]
pub struct ValuesSource {
    pub file: FileId,
    /// Where the install is declared (the values file start, the HelmRelease's kind).
    pub at: Location,
    /// The values tree; `None` when the release carries no inline values.
    pub values: Option<Node>,
    /// The chart version the release pins.
    pub chart_version: Option<Fact<String>>,
    pub gitops: Option<Fact<GitOps>>,
}

/// What the Kubernetes manifests and values files of a repository say.
#[derive(Debug, Default)]
pub struct Collected {
    pub longhorn: Vec<ValuesSource>,
    pub cilium: Vec<ValuesSource>,
    pub namespace: Option<Namespace>,
    /// Problems with embedded values (an Argo CD `values` string that is not YAML).
    pub findings: Vec<crate::finding::Finding>,
    /// Longhorn settings by their resource name (`backup-target`), from `Setting` and
    /// `BackupTarget` resources and the default-setting / default-resource ConfigMaps.
    pub settings: Vec<(String, Fact<String>)>,
    /// Longhorn StorageClasses (their replica count, disk and node selectors).
    pub classes: Vec<StorageClass>,
    /// Disks of Longhorn `Node` resources.
    pub node_disks: Vec<NodeDisk>,
    /// `valuesFrom` of Longhorn HelmReleases, resolved by [`Collected::resolve_references`].
    values_from: Vec<ValuesRef>,
    /// ConfigMap / Secret entries that may be values files, parsed only when a `valuesFrom`
    /// names them (most ConfigMaps of a repository are not Helm values).
    value_maps: Vec<ValueMapEntry>,
    /// HelmReleases with a `chartRef`: (index in `longhorn`, referenced name).
    chart_refs: Vec<(usize, String)>,
    /// OCIRepository / HelmChart versions by name.
    chart_versions: Vec<(String, Fact<String>)>,
}

/// One key of a ConfigMap's `data` or a Secret's `stringData`, as written.
#[derive(Debug)]
struct ValueMapEntry {
    kind: String,
    name: String,
    key: String,
    file: FileId,
    key_node: Node,
    value: Node,
}

impl ValueMapEntry {
    /// The entry's text as a values file, when it is a YAML mapping.
    fn values(&self, sources: &SourceMap) -> Option<ValuesSource> {
        let text = &sources.get(self.file).text;
        embedded::parse_string_value(text, &self.key_node, &self.value)
            .ok()
            .filter(|values| values.as_map().is_some())
            .map(|values| Collected::values_file(self.file, values))
    }
}

/// A HelmRelease's `valuesFrom` entry.
#[derive(Debug)]
struct ValuesRef {
    kind: String,
    name: String,
    key: String,
}

/// A chart version. One written as a YAML number (`version: 1.10`, which parses to 1.1) is read
/// as written: that is the version its author means, and reading 1.1 would take a current
/// chart for one older than talhorn's tables.
fn version_fact(at: Located, text: &str, node: Option<&Node>) -> Option<Fact<String>> {
    let node = node?;
    match node.value {
        Value::Int(_) | Value::Float(_) => {
            let written = text.get(node.span.start..node.span.end)?.trim();
            Some(at.fact(written.to_owned(), node.span))
        }
        _ => str_fact(at, Some(node)),
    }
}

/// `apiVersion: v1`: the core group, whose `List` holds manifests in `items`.
fn is_core_v1(doc: &Node) -> bool {
    doc.get("apiVersion").and_then(Node::as_str) == Some("v1")
}

fn is_longhorn_api(doc: &Node) -> bool {
    doc.get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with("longhorn.io/"))
}

impl Collected {
    /// A values file (`values.yaml` for the chart).
    pub fn values_file(file: FileId, values: Node) -> ValuesSource {
        ValuesSource {
            file,
            at: Location::file_start(file),
            values: Some(values),
            chart_version: None,
            gitops: None,
        }
    }

    /// Reads every Kubernetes manifest of a file; unrelated ones are skipped. The items of a
    /// `kind: List` (what `kubectl get -o yaml` writes; kubectl and kustomize apply each item)
    /// are read as manifests of the file, each at its own place in it.
    pub fn manifests(&mut self, file: FileId, text: &str, docs: &[Node]) {
        for doc in docs {
            self.manifest(file, text, doc, true);
        }
    }

    /// One manifest; `top` when it is a document of the file, not an item of a List.
    fn manifest(&mut self, file: FileId, text: &str, doc: &Node, top: bool) {
        let at = Located(file);
        match doc.get("kind").and_then(Node::as_str) {
            // One level, as kubectl writes them: a List among the items is not read.
            Some("List") if top && is_core_v1(doc) => {
                let items = doc.get("items").and_then(Node::as_seq);
                for item in items.unwrap_or_default() {
                    self.manifest(file, text, item, false);
                }
            }
            Some("Namespace") => self.namespace(at, doc),
            Some("HelmRelease") => self.helm_release(at, text, doc),
            Some("Application") => self.application(at, text, doc),
            Some("BackupTarget") if is_longhorn_api(doc) => self.backup_target(at, doc),
            Some("Node") if is_longhorn_api(doc) => self.longhorn_node(at, doc),
            Some("Setting") if is_longhorn_api(doc) => {
                let name = doc.path(&["metadata", "name"]).and_then(Node::as_str);
                if let (Some(name), Some(value)) = (name, str_fact(at, doc.get("value"))) {
                    self.settings.push((name.to_owned(), value));
                }
            }
            Some("ConfigMap") => {
                self.config_map(at, text, doc);
                self.values_map(at, "ConfigMap", doc);
            }
            Some("Secret") => self.values_map(at, "Secret", doc),
            Some("OCIRepository" | "HelmChart") => self.chart_source(at, text, doc),
            Some("StorageClass") => self.storage_class(at, doc),
            _ => {}
        }
    }

    /// A `BackupTarget` resource (Longhorn ≥ 1.8): the `default` one is the backup target.
    fn backup_target(&mut self, at: Located, doc: &Node) {
        if let Some(url) = str_fact(at, doc.path(&["spec", "backupTargetURL"]))
            .filter(|url| !url.value.trim().is_empty())
        {
            self.settings.push(("backup-target".to_owned(), url));
        }
        if let Some(secret) = str_fact(at, doc.path(&["spec", "credentialSecret"])) {
            self.settings
                .push(("backup-target-credential-secret".to_owned(), secret));
        }
    }

    /// `longhorn-default-setting` (`default-setting.yaml`) and `longhorn-default-resource`
    /// (`default-resource.yaml`): settings as a YAML string of `name: value`.
    fn config_map(&mut self, at: Located, text: &str, doc: &Node) {
        let name = doc.path(&["metadata", "name"]).and_then(Node::as_str);
        let key = match name {
            Some("longhorn-default-setting") => "default-setting.yaml",
            Some("longhorn-default-resource") => "default-resource.yaml",
            _ => return,
        };
        let Some((key_node, value)) = doc.get("data").and_then(|d| d.entry(key)) else {
            return;
        };
        let Ok(settings) = embedded::parse_string_value(text, key_node, value) else {
            return;
        };
        for (name, value) in settings.as_map().unwrap_or_default() {
            if let (Some(name), Some(value)) = (name.scalar_text(), str_fact(at, Some(value))) {
                self.settings.push((name, value));
            }
        }
    }

    /// A StorageClass of the `driver.longhorn.io` provisioner: its `numberOfReplicas`, disk
    /// and node selectors.
    fn storage_class(&mut self, at: Located, doc: &Node) {
        if doc.get("provisioner").and_then(Node::as_str) != Some("driver.longhorn.io") {
            return;
        }
        let selector = |key: &str| {
            str_fact(at, doc.path(&["parameters", key])).map(|f| f.map(|v| tag_list(&v)))
        };
        let name = doc.path(&["metadata", "name"]).and_then(Node::scalar_text);
        self.classes.push(StorageClass {
            name: name.unwrap_or_default(),
            at: at.loc(doc.get("kind").map_or(doc.span, |k| k.span)),
            replicas: u32_fact(at, doc.path(&["parameters", "numberOfReplicas"])),
            disk_selector: selector("diskSelector"),
            node_selector: selector("nodeSelector"),
        });
    }

    /// A Longhorn `Node` resource: the tags of each disk in `spec.disks`.
    fn longhorn_node(&mut self, at: Located, doc: &Node) {
        let Some(node) = doc.path(&["metadata", "name"]).and_then(Node::scalar_text) else {
            return;
        };
        let disks = doc.path(&["spec", "disks"]).and_then(Node::as_map);
        for (name, disk) in disks.unwrap_or_default() {
            let tags = disk.get("tags").and_then(Node::as_seq).unwrap_or_default();
            self.node_disks.push(NodeDisk {
                node: node.clone(),
                tags: tags.iter().filter_map(Node::scalar_text).collect(),
                at: at.loc(name.span),
            });
        }
    }

    fn namespace(&mut self, at: Located, doc: &Node) {
        let name = doc.path(&["metadata", "name"]).and_then(Node::as_str);
        if name != Some(NAMESPACE) || self.namespace.is_some() {
            return;
        }
        let metadata = doc.entry("metadata");
        let labels_entry = doc.get("metadata").and_then(|m| m.entry("labels"));
        let labels = labels_entry
            .and_then(|(_, v)| v.as_map())
            .unwrap_or_default();
        let labels_at = labels_entry
            .or(metadata)
            .map_or(doc.span, |(key, _)| key.span);
        self.namespace = Some(Namespace {
            file: Some(at.0),
            at: at.loc(doc.span),
            labels: labels
                .iter()
                .filter_map(|(k, v)| Some((k.scalar_text()?, str_fact(at, Some(v))?)))
                .collect(),
            labels_at: at.loc(labels_at),
        });
    }

    /// A Flux HelmRelease: `spec.chart.spec` (chart and version) or `spec.chartRef` (an
    /// OCIRepository or HelmChart of the repository, whose tag is the version), with inline
    /// `values` and `valuesFrom` ConfigMaps / Secrets found in the repository.
    fn helm_release(&mut self, at: Located, text: &str, doc: &Node) {
        let chart_spec = doc.path(&["spec", "chart", "spec"]);
        let chart_ref = doc.path(&["spec", "chartRef"]);
        let (chart, version) = match (chart_spec, chart_ref) {
            (Some(spec), _) => {
                let Some(chart) = spec.get("chart").and_then(Node::as_str) else {
                    return;
                };
                (
                    chart.to_owned(),
                    version_fact(at, text, spec.get("version")),
                )
            }
            (None, Some(reference)) => {
                let Some(name) = reference.get("name").and_then(Node::as_str) else {
                    return;
                };
                // The chart behind a reference is named by the referenced source.
                let chart = if name.contains("longhorn") {
                    "longhorn"
                } else {
                    name
                };
                self.chart_refs.push((self.longhorn.len(), name.to_owned()));
                (chart.to_owned(), None)
            }
            (None, None) => return,
        };
        let kind_span = doc.get("kind").map_or(doc.span, |k| k.span);
        let source = ValuesSource {
            file: at.0,
            at: at.loc(kind_span),
            values: doc.path(&["spec", "values"]).cloned(),
            chart_version: version,
            gitops: Some(at.fact(GitOps::Flux, kind_span)),
        };
        let is_longhorn = chart.rsplit('/').next() == Some("longhorn");
        if is_longhorn {
            let from = doc.path(&["spec", "valuesFrom"]).and_then(Node::as_seq);
            for reference in from.unwrap_or_default() {
                let text = |k: &str| reference.get(k).and_then(Node::as_str).map(str::to_owned);
                if let (Some(kind), Some(name)) = (text("kind"), text("name")) {
                    let key = text("valuesKey").unwrap_or_else(|| "values.yaml".to_owned());
                    self.values_from.push(ValuesRef { kind, name, key });
                }
            }
        } else {
            self.chart_refs.retain(|(i, _)| *i != self.longhorn.len());
        }
        self.push(&chart, source);
    }

    /// An OCIRepository or HelmChart a `chartRef` may name: its version.
    fn chart_source(&mut self, at: Located, text: &str, doc: &Node) {
        let Some(name) = doc.path(&["metadata", "name"]).and_then(Node::as_str) else {
            return;
        };
        let version = doc
            .path(&["spec", "ref", "tag"])
            .or_else(|| doc.path(&["spec", "ref", "semver"]))
            .or_else(|| doc.path(&["spec", "version"]));
        if let Some(version) = version_fact(at, text, version) {
            self.chart_versions.push((name.to_owned(), version));
        }
    }

    /// A ConfigMap's `data` or a Secret's `stringData`: values files a HelmRelease may read.
    fn values_map(&mut self, at: Located, kind: &str, doc: &Node) {
        let Some(name) = doc.path(&["metadata", "name"]).and_then(Node::as_str) else {
            return;
        };
        let data = doc.get(if kind == "Secret" {
            "stringData"
        } else {
            "data"
        });
        for (key, value) in data.and_then(Node::as_map).unwrap_or_default() {
            let Some(key_text) = key.scalar_text() else {
                continue;
            };
            self.value_maps.push(ValueMapEntry {
                kind: kind.to_owned(),
                name: name.to_owned(),
                key: key_text,
                file: at.0,
                key_node: key.clone(),
                value: value.clone(),
            });
        }
    }

    /// Joins `valuesFrom` and `chartRef` to what the repository holds: values from a
    /// ConfigMap or Secret follow the release's own (which Flux merges over them).
    pub fn resolve_references(&mut self, sources: &SourceMap) {
        for (index, name) in std::mem::take(&mut self.chart_refs) {
            let version = self.chart_versions.iter().find(|(n, _)| *n == name);
            if let (Some(source), Some((_, version))) = (self.longhorn.get_mut(index), version) {
                source.chart_version.get_or_insert_with(|| version.clone());
            }
        }
        let chart_version = self.longhorn.first().and_then(|s| s.chart_version.clone());
        for reference in std::mem::take(&mut self.values_from) {
            let found = self
                .value_maps
                .iter()
                .filter(|entry| {
                    entry.kind == reference.kind
                        && entry.name == reference.name
                        && entry.key == reference.key
                })
                .find_map(|entry| entry.values(sources));
            if let Some(mut source) = found {
                source.chart_version.clone_from(&chart_version);
                self.longhorn.push(source);
            }
        }
    }

    fn application(&mut self, at: Located, text: &str, doc: &Node) {
        let kind_span = doc.get("kind").map_or(doc.span, |k| k.span);
        let single = doc.path(&["spec", "source"]).into_iter();
        let multiple = doc
            .path(&["spec", "sources"])
            .and_then(Node::as_seq)
            .unwrap_or_default();
        for source in single.chain(multiple) {
            let Some(chart) = source.get("chart").and_then(Node::as_str) else {
                continue;
            };
            let values = self.application_values(at, text, source);
            let source = ValuesSource {
                file: at.0,
                at: at.loc(kind_span),
                values,
                chart_version: version_fact(at, text, source.get("targetRevision")),
                gitops: Some(at.fact(GitOps::Argocd, kind_span)),
            };
            self.push(chart, source);
        }
    }

    /// `helm.valuesObject`, else the `helm.values` string parsed as YAML.
    fn application_values(&mut self, at: Located, text: &str, source: &Node) -> Option<Node> {
        let helm = source.get("helm")?;
        if let Some(object) = helm.get("valuesObject") {
            return Some(object.clone());
        }
        let (key, value) = helm.entry("values")?;
        match embedded::parse_string_value(text, key, value) {
            Ok(values) => Some(values),
            Err(error) => {
                self.findings.push(crate::finding::Finding::new(
                    "INT001",
                    crate::finding::Severity::Error,
                    at.loc(error.span),
                    format!(
                        "the Helm `values` string is not valid YAML: {}",
                        error.message
                    ),
                ));
                None
            }
        }
    }

    fn push(&mut self, chart: &str, source: ValuesSource) {
        // `longhorn` or `longhorn/longhorn` (repository/chart).
        match chart.rsplit('/').next() {
            Some("longhorn") => self.longhorn.push(source),
            Some("cilium") => self.cilium.push(source),
            _ => {}
        }
    }
}

/// The Longhorn install from every source (file order): the first source that states a fact
/// wins. `None` when the repository has no Longhorn values, release or namespace.
pub fn longhorn(
    collected: &Collected,
    chart: Option<&ChartVersion>,
    gitops: Option<Fact<GitOps>>,
) -> Option<Longhorn> {
    let at = collected
        .longhorn
        .first()
        .map(|s| s.at)
        .or_else(|| collected.namespace.as_ref().map(|n| n.at))
        .or_else(|| collected.settings.first().map(|(_, v)| v.at))?;
    let mut longhorn = Longhorn::new(at);
    for source in &collected.longhorn {
        if let Some(values) = &source.values {
            if longhorn.values.is_none() {
                longhorn.values_file = Some(source.file);
                longhorn.values = Some(values.clone());
            }
            fill_from_values(&mut longhorn, Located(source.file), values, chart);
        }
        if longhorn.gitops.is_none() {
            longhorn.gitops.clone_from(&source.gitops);
        }
    }
    fill_from_settings(&mut longhorn, collected);
    if longhorn.gitops.is_none() {
        longhorn.gitops = gitops;
    }
    longhorn.namespace.clone_from(&collected.namespace);
    Some(longhorn)
}

/// Settings from Longhorn resources and ConfigMaps, where Helm values left them unset.
fn fill_from_settings(longhorn: &mut Longhorn, collected: &Collected) {
    let setting = |name: &str| {
        collected
            .settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let is_true = |fact: Fact<String>| fact.map(|v| v.trim().eq_ignore_ascii_case("true"));
    let count = |fact: Fact<String>| Some(Fact::new(fact.value.trim().parse().ok()?, fact.at));
    fill(&mut longhorn.backup_target, setting("backup-target"));
    fill(
        &mut longhorn.backup_secret,
        setting("backup-target-credential-secret"),
    );
    fill(&mut longhorn.data_path, setting("default-data-path"));
    fill(
        &mut longhorn.default_replica_count,
        setting("default-replica-count").and_then(count),
    );
    fill(
        &mut longhorn.create_default_disk_labeled_nodes,
        setting("create-default-disk-labeled-nodes").map(is_true),
    );
    fill(
        &mut longhorn.replica_soft_anti_affinity,
        setting("replica-soft-anti-affinity").map(is_true),
    );
    fill(
        &mut longhorn.engine_v2,
        setting("v2-data-engine").map(is_true),
    );
    // Only the chart's own class stands for `persistence.defaultClassReplicaCount`; another
    // class (a strict-local one, which must have one replica) is its own.
    let chart_class = collected
        .classes
        .iter()
        .find(|class| class.is_chart_class());
    fill(
        &mut longhorn.class_replica_count,
        chart_class.and_then(|class| class.replicas.clone()),
    );
    longhorn.classes.extend(collected.classes.iter().cloned());
    longhorn
        .node_disks
        .extend(collected.node_disks.iter().cloned());
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn fill_from_values(
    longhorn: &mut Longhorn,
    at: Located,
    values: &Node,
    chart: Option<&ChartVersion>,
) {
    let setting = |name: &str, engine: Engine| setting(at, values, name, chart, engine);
    let is_true = |fact: Fact<String>| fact.map(|v| v.eq_ignore_ascii_case("true"));
    fill(
        &mut longhorn.engine_v2,
        setting("v2DataEngine", Engine::V2).map(is_true),
    );
    fill(
        &mut longhorn.data_path,
        setting("defaultDataPath", Engine::V1),
    );
    let count = |fact: Fact<String>| Some(Fact::new(fact.value.trim().parse().ok()?, fact.at));
    fill(
        &mut longhorn.default_replica_count,
        setting("defaultReplicaCount", Engine::V1).and_then(count),
    );
    fill(
        &mut longhorn.class_replica_count,
        u32_fact(
            at,
            values.path(&["persistence", "defaultClassReplicaCount"]),
        ),
    );
    fill(
        &mut longhorn.create_default_disk_labeled_nodes,
        setting("createDefaultDiskLabeledNodes", Engine::V1).map(is_true),
    );
    fill(
        &mut longhorn.replica_soft_anti_affinity,
        setting("replicaSoftAntiAffinity", Engine::V1).map(is_true),
    );
    // `defaultBackupStore.*` from 1.8, `defaultSettings.*` before; an unknown chart is taken
    // for a current one.
    let backup = chart
        .and_then(knowledge::backup_keys)
        .unwrap_or(knowledge::BACKUP_STORE_KEYS);
    let dotted = |path: &'static str| values.path(&path.split('.').collect::<Vec<_>>());
    fill(
        &mut longhorn.backup_target,
        str_fact(at, dotted(backup.target)),
    );
    fill(
        &mut longhorn.backup_secret,
        str_fact(at, dotted(backup.credential_secret)),
    );
    fill(
        &mut longhorn.pre_upgrade_job,
        bool_fact(at, values.path(&["preUpgradeChecker", "jobEnabled"])),
    );
    let known_key = chart.and_then(knowledge::v2_memory_key);
    let memory_keys = match known_key.and_then(|key| key.strip_prefix("defaultSettings.")) {
        Some(key) => vec![key],
        None => vec!["dataEngineMemorySize", "v2DataEngineHugepageLimit"],
    };
    let memory = memory_keys.iter().find_map(|key| setting(key, Engine::V2));
    fill(
        &mut longhorn.v2_memory_mib,
        memory.and_then(|f| Some(Fact::new(f.value.trim().parse().ok()?, f.at))),
    );
    if let Some(class) = default_class(at, values) {
        longhorn.classes.push(class);
    }
    let hugepages = setting("dataEngineHugepageEnabled", Engine::V2);
    longhorn.v2_hugepages_disabled |=
        hugepages.is_some_and(|f| f.value.eq_ignore_ascii_case("false"));
}

/// The chart's default StorageClass (`longhorn`) when it has an enabled disk or node selector:
/// `persistence.defaultDiskSelector` / `defaultNodeSelector` with `enable: true`.
fn default_class(at: Located, values: &Node) -> Option<StorageClass> {
    let selector = |key: &str| {
        let section = values.path(&["persistence", key])?;
        let enabled = section.get("enable").and_then(Node::scalar_text)?;
        if enabled != "true" {
            return None;
        }
        str_fact(at, section.get("selector")).map(|f| f.map(|v| tag_list(&v)))
    };
    let disk_selector = selector("defaultDiskSelector");
    let node_selector = selector("defaultNodeSelector");
    let fact_at = disk_selector.as_ref().or(node_selector.as_ref())?.at;
    Some(StorageClass {
        name: knowledge::CHART_CLASS.to_owned(),
        at: fact_at,
        // The chart's count is `persistence.defaultClassReplicaCount`, read on its own.
        replicas: None,
        disk_selector,
        node_selector,
    })
}

/// `defaultSettings.<name>` for one engine, read as the manager reads it for a known chart
/// (per-engine JSON or maps from 1.10 on), or as a plain scalar when the chart is unknown.
fn setting(
    at: Located,
    values: &Node,
    name: &str,
    chart: Option<&ChartVersion>,
    engine: Engine,
) -> Option<Fact<String>> {
    let Some(chart) = chart else {
        return str_fact(at, values.path(&["defaultSettings", name]));
    };
    let (node, value) = knowledge::effective_setting(values, name, chart)?;
    let text = match &value {
        SettingValue::Uniform(text) => text.as_str(),
        SettingValue::PerEngine(_) => value.for_engine(engine)?,
    };
    Some(at.fact(text.to_owned(), node.span))
}

/// The CNI from Cilium values: its MTU and encapsulation. Cilium tunnels with VXLAN unless
/// `routingMode: native` or another `tunnelProtocol` is set.
pub fn cilium(collected: &Collected) -> Option<Cni> {
    let source = collected.cilium.first()?;
    let at = Located(source.file);
    let empty = Node::new(crate::yaml::Value::Map(Vec::new()), source.at.span);
    let values = source.values.as_ref().unwrap_or(&empty);
    let routing = str_fact(at, values.get("routingMode"));
    let tunnel = str_fact(at, values.get("tunnelProtocol"));
    let encapsulation = match routing {
        Some(mode) if mode.value == "native" => Some(mode.map(|_| "native".to_owned())),
        _ => tunnel.or_else(|| Some(Fact::new("vxlan".to_owned(), source.at))),
    };
    Some(Cni {
        name: Fact::new("cilium".to_owned(), source.at),
        mtu: u32_fact(at, values.get("MTU")),
        encapsulation,
    })
}
