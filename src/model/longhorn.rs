//! Longhorn facts: the Helm values (from the intent or a values file / HelmRelease /
//! Application) and the `longhorn-system` Namespace.

use super::GitOps;
use crate::source::{Fact, FileId, Location};
use crate::yaml::Node;

#[derive(Debug, Clone)]
pub struct Namespace {
    pub file: Option<FileId>,
    pub at: Location,
    /// Labels as written: (key, value).
    pub labels: Vec<(String, Fact<String>)>,
    /// Where new labels belong (`metadata.labels`, or `metadata`).
    pub labels_at: Location,
}

impl Namespace {
    pub fn label(&self, key: &str) -> Option<&Fact<String>> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// A Longhorn StorageClass (`driver.longhorn.io`), or the chart's default class
/// (`persistence.defaultDiskSelector` / `defaultNodeSelector`): the tags a disk (`diskSelector`)
/// and a node (`nodeSelector`) must all carry to hold a replica of its volumes.
#[derive(Debug, Clone)]
pub struct StorageClass {
    /// `metadata.name` (`longhorn` for the chart's class).
    pub name: String,
    pub at: Location,
    /// `parameters.numberOfReplicas` as written in a StorageClass manifest (`None` for the
    /// chart's class made from values, whose count is `Longhorn::class_replica_count`).
    pub replicas: Option<Fact<u32>>,
    pub disk_selector: Option<Fact<Vec<String>>>,
    pub node_selector: Option<Fact<Vec<String>>>,
}

impl StorageClass {
    /// Whether this is the class the chart makes from `persistence.defaultClass*`: the chart
    /// names it `longhorn` at every version (`chart/templates/storageclass.yaml`), and a
    /// manifest of that name is the same object. Being the cluster's default class
    /// (`storageclass.kubernetes.io/is-default-class`) does not make a class the chart's: its
    /// replica count is not `persistence.defaultClassReplicaCount`.
    pub fn is_chart_class(&self) -> bool {
        self.name == crate::knowledge::longhorn::CHART_CLASS
    }
}

/// A disk a Longhorn `Node` resource of the repository declares (`spec.disks.<name>`).
#[derive(Debug, Clone)]
pub struct NodeDisk {
    /// The Longhorn node (`metadata.name`).
    pub node: String,
    pub tags: Vec<String>,
    pub at: Location,
}

/// `a,b` → `[a, b]`: Longhorn's comma-separated tag lists.
pub fn tag_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Clone)]
pub struct Longhorn {
    /// Where the Longhorn install is declared (values file start, HelmRelease, intent section).
    pub at: Location,
    pub values_file: Option<FileId>,
    /// The values tree as written (repository files only), for key checks.
    pub values: Option<Node>,
    pub engine_v2: Option<Fact<bool>>,
    pub data_path: Option<Fact<String>>,
    pub default_replica_count: Option<Fact<u32>>,
    pub class_replica_count: Option<Fact<u32>>,
    pub create_default_disk_labeled_nodes: Option<Fact<bool>>,
    pub replica_soft_anti_affinity: Option<Fact<bool>>,
    pub backup_target: Option<Fact<String>>,
    pub backup_secret: Option<Fact<String>>,
    pub pre_upgrade_job: Option<Fact<bool>>,
    /// V2 memory the data engine wants, in MiB (hugepages must cover it).
    pub v2_memory_mib: Option<Fact<u64>>,
    pub v2_hugepages_disabled: bool,
    pub gitops: Option<Fact<GitOps>>,
    pub namespace: Option<Namespace>,
    pub allow_scheduling_on_control_planes: Option<Fact<bool>>,
    /// StorageClasses of the repository and the chart's default class.
    pub classes: Vec<StorageClass>,
    /// Disks declared by Longhorn `Node` resources of the repository.
    pub node_disks: Vec<NodeDisk>,
}

impl Longhorn {
    pub fn new(at: Location) -> Self {
        Self {
            at,
            values_file: None,
            values: None,
            engine_v2: None,
            data_path: None,
            default_replica_count: None,
            class_replica_count: None,
            create_default_disk_labeled_nodes: None,
            replica_soft_anti_affinity: None,
            backup_target: None,
            backup_secret: None,
            pre_upgrade_job: None,
            v2_memory_mib: None,
            v2_hugepages_disabled: false,
            gitops: None,
            namespace: None,
            allow_scheduling_on_control_planes: None,
            classes: Vec::new(),
            node_disks: Vec::new(),
        }
    }

    pub fn v2(&self) -> bool {
        self.engine_v2.as_ref().is_some_and(|f| f.value)
    }

    pub fn schedules_on_control_planes(&self) -> bool {
        self.allow_scheduling_on_control_planes
            .as_ref()
            .is_some_and(|f| f.value)
    }

    /// The replica count new volumes get (StorageClass first, as PVCs use it).
    pub fn replica_count(&self) -> Option<&Fact<u32>> {
        self.class_replica_count
            .as_ref()
            .or(self.default_replica_count.as_ref())
    }
}
