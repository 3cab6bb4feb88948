//! Longhorn rules: the Helm values and the namespace, checked against the Talos and Proxmox
//! facts they depend on.
use super::Rule;
use crate::finding::Finding;
use crate::model::{Cluster, Longhorn};
use crate::source::Fact;

pub mod lhn001_namespace_not_privileged;
pub mod lhn002_replicas_exceed_nodes;
pub mod lhn003_data_path_mismatch;
pub mod lhn004_labeled_nodes_missing;
pub mod lhn005_key_moved;
pub mod lhn006_gitops_upgrade_checker;
pub mod lhn007_no_backup_target;
pub mod lhn008_backup_target_invalid;
pub mod lhn009_v2_experimental;
pub mod lhn010_replica_defaults_differ;
pub mod lhn011_single_replica;
pub mod lhn012_disk_selector_unmatched;

pub static RULES: &[&dyn Rule] = &[
    &lhn001_namespace_not_privileged::NamespaceNotPrivileged,
    &lhn002_replicas_exceed_nodes::ReplicasExceedNodes,
    &lhn003_data_path_mismatch::DataPathMismatch,
    &lhn004_labeled_nodes_missing::LabeledNodesMissing,
    &lhn005_key_moved::KeyMoved,
    &lhn006_gitops_upgrade_checker::GitopsUpgradeChecker,
    &lhn007_no_backup_target::NoBackupTarget,
    &lhn008_backup_target_invalid::BackupTargetInvalid,
    &lhn009_v2_experimental::V2Experimental,
    &lhn010_replica_defaults_differ::ReplicaDefaultsDiffer,
    &lhn011_single_replica::SingleReplica,
    &lhn012_disk_selector_unmatched::DiskSelectorUnmatched,
];

/// The replica counts the values set: the StorageClass default (what PVCs get) and the UI
/// default, each with the key it is written under. One count that sets both (the intent's
/// `replicas`) is returned once, as `replicas`.
pub fn replica_counts(cluster: &Cluster) -> Vec<(&'static str, &Fact<u32>)> {
    let Some(longhorn) = cluster.longhorn.as_ref() else {
        return Vec::new();
    };
    match (
        longhorn.class_replica_count.as_ref(),
        longhorn.default_replica_count.as_ref(),
    ) {
        (Some(class), Some(default)) if class.at == default.at => vec![("replicas", class)],
        (class, default) => [
            (class_count_key(longhorn), class),
            ("defaultSettings.defaultReplicaCount", default),
        ]
        .into_iter()
        .filter_map(|(key, count)| Some((key, count?)))
        .collect(),
    }
}

/// The key the chart's class count is written under: `persistence.defaultClassReplicaCount`,
/// or `numberOfReplicas` when a StorageClass manifest named `longhorn` stands for it (a message
/// must not quote a values key the values do not set).
pub fn class_count_key(longhorn: &Longhorn) -> &'static str {
    let from_manifest = longhorn.class_replica_count.as_ref().is_some_and(|count| {
        longhorn.classes.iter().any(|class| {
            class.is_chart_class() && class.replicas.as_ref().is_some_and(|r| r.at == count.at)
        })
    });
    if from_manifest {
        "numberOfReplicas"
    } else {
        "persistence.defaultClassReplicaCount"
    }
}

/// Keeps the first of findings that say the same thing at the same place.
pub fn push_unique(out: &mut Vec<Finding>, finding: Finding) {
    crate::rules::talos::push_unique(out, finding);
}

/// How many nodes hold Longhorn replicas, when every node's status is known: from the Talos
/// nodes (labels under `createDefaultDiskLabeledNodes`, roles), else from the VMs.
pub fn storage_node_count(cluster: &Cluster) -> Option<usize> {
    if cluster.talos.nodes.is_empty() {
        return cluster.storage_node_count();
    }
    cluster
        .talos
        .nodes
        .iter()
        .map(|node| crate::rules::talos::is_storage_node(cluster, node))
        .try_fold(0, |n, storage| storage.map(|s| n + usize::from(s)))
}

/// The chart's default for both replica counts (`persistence.defaultClassReplicaCount: 3`,
/// manager `default-replica-count` 3) at every supported version.
pub const CHART_DEFAULT_REPLICAS: u32 = 3;
