//! Intent → Longhorn install facts.

use super::is_storage_node;
use crate::intent::{Engine, GitOps, LoadedIntent};
use crate::knowledge::talos::{DataDiskForm, Dialect};
use crate::model::Longhorn;
use crate::model::longhorn::Namespace;
use crate::source::Fact;

/// Longhorn's data path on Talos: the user volume at `/var/mnt/longhorn` (Talos ≥ 1.10), or the
/// chart default `/var/lib/longhorn` bind-mounted into the kubelet (Talos 1.9).
pub fn data_path(dialect: &Dialect) -> &'static str {
    match dialect.data_disk {
        DataDiskForm::UserVolumeConfig => "/var/mnt/longhorn",
        DataDiskForm::MachineDisks => "/var/lib/longhorn",
    }
}

/// The V2 data engine's default hugepage memory (Longhorn manager default, MiB).
pub const V2_MEMORY_MIB: u64 = 2048;

/// Pod Security labels Longhorn needs on Talos (whose default level is baseline).
pub const NAMESPACE_LABELS: &[(&str, &str)] = &[
    ("pod-security.kubernetes.io/audit", "privileged"),
    ("pod-security.kubernetes.io/enforce", "privileged"),
    ("pod-security.kubernetes.io/warn", "privileged"),
];

pub(super) fn longhorn(intent: &LoadedIntent, dialect: &Dialect) -> Option<Longhorn> {
    let spec = intent.intent.longhorn.as_ref()?;
    let at = intent.key_loc("/longhorn");
    let storage_nodes = (0..intent.intent.nodes.len())
        .filter(|&i| is_storage_node(intent, i))
        .count();
    let replicas_at = if intent.has("/longhorn/replicas") {
        intent.loc("/longhorn/replicas")
    } else {
        at
    };
    // Three replicas when three storage nodes exist, else one per storage node.
    let replicas = spec
        .replicas
        .unwrap_or_else(|| u32::try_from(storage_nodes.clamp(1, 3)).unwrap_or(3));
    let mut longhorn = Longhorn::new(at);
    longhorn.engine_v2 = Some(Fact::new(
        spec.engine == Engine::V2,
        intent.loc("/longhorn/engine"),
    ));
    longhorn.data_path = Some(Fact::new(data_path(dialect).to_string(), at));
    longhorn.default_replica_count = Some(Fact::new(replicas, replicas_at));
    longhorn.class_replica_count = Some(Fact::new(replicas, replicas_at));
    let labeled = spec.storage_nodes == crate::intent::StorageNodes::Labeled;
    longhorn.create_default_disk_labeled_nodes =
        labeled.then(|| Fact::new(true, intent.loc("/longhorn/storageNodes")));
    if let Some(backup) = &spec.backup {
        longhorn.backup_target = Some(Fact::new(
            backup.target.clone(),
            intent.loc("/longhorn/backup/target"),
        ));
        longhorn.backup_secret = backup
            .credential_secret
            .clone()
            .map(|s| Fact::new(s, intent.loc("/longhorn/backup/credentialSecret")));
    }
    let gitops_at = if intent.has("/longhorn/gitops") {
        intent.loc("/longhorn/gitops")
    } else {
        at
    };
    longhorn.gitops = Some(Fact::new(spec.gitops, gitops_at));
    if spec.gitops != GitOps::None {
        longhorn.pre_upgrade_job = Some(Fact::new(false, gitops_at));
    }
    if spec.engine == Engine::V2 {
        longhorn.v2_memory_mib = Some(Fact::new(V2_MEMORY_MIB, intent.loc("/longhorn/engine")));
    }
    longhorn.allow_scheduling_on_control_planes = Some(Fact::new(
        intent.intent.cluster.allow_scheduling_on_control_planes,
        intent.loc("/cluster"),
    ));
    longhorn.namespace = Some(Namespace {
        file: None,
        at,
        labels: NAMESPACE_LABELS
            .iter()
            .map(|(k, v)| ((*k).to_string(), Fact::new((*v).to_string(), at)))
            .collect(),
        labels_at: at,
    });
    Some(longhorn)
}
