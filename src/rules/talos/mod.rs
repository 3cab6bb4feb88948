//! Talos rules: the machine configs, patches and schematic that Longhorn depends on.
//!
//! The helpers here answer the questions several rules share: which configs apply to the
//! Longhorn storage nodes, where Longhorn keeps its data, and whether a mount covers a path.
use super::Rule;
use crate::finding::Finding;
use crate::knowledge::talos::TalosVersion;
use crate::model::{Cluster, Role, TalosConfig, TalosNode};
use crate::source::Location;
use crate::yaml::Node;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

pub mod tal001_missing_iscsi_tools;
pub mod tal002_missing_util_linux_tools;
pub mod tal003_missing_kind;
pub mod tal004_longhorn_mount_missing;
pub mod tal005_mount_propagation;
pub mod tal006_installer_image_drift;
pub mod tal007_disk_name_mismatch;
pub mod tal008_deprecated_for_version;
pub mod tal009_user_volume_invalid;
pub mod tal010_v2_hugepages;
pub mod tal011_v2_kernel_modules;
pub mod tal012_duplicate_entry;
pub mod tal013_dhcp_unreserved;
pub mod tal014_unknown_extension;
pub mod tal015_longhorn_on_ephemeral;
pub mod tal016_unknown_kernel_module;
pub mod tal017_disk_selector_unseen;
pub mod tal018_route_destination_unspecified;

pub static RULES: &[&dyn Rule] = &[
    &tal001_missing_iscsi_tools::MissingIscsiTools,
    &tal002_missing_util_linux_tools::MissingUtilLinuxTools,
    &tal003_missing_kind::MissingKind,
    &tal004_longhorn_mount_missing::LonghornMountMissing,
    &tal005_mount_propagation::MountPropagation,
    &tal006_installer_image_drift::InstallerImageDrift,
    &tal007_disk_name_mismatch::DiskNameMismatch,
    &tal008_deprecated_for_version::DeprecatedForVersion,
    &tal009_user_volume_invalid::UserVolumeInvalid,
    &tal010_v2_hugepages::V2Hugepages,
    &tal011_v2_kernel_modules::V2KernelModules,
    &tal012_duplicate_entry::DuplicateEntry,
    &tal013_dhcp_unreserved::DhcpUnreserved,
    &tal014_unknown_extension::UnknownExtension,
    &tal015_longhorn_on_ephemeral::LonghornOnEphemeral,
    &tal016_unknown_kernel_module::UnknownKernelModule,
    &tal017_disk_selector_unseen::DiskSelectorUnseen,
    &tal018_route_destination_unspecified::RouteDestinationUnspecified,
];

/// Each VM with the Talos configs that apply to it: through its Talos node when nodes are
/// known, else through its role.
pub fn vm_configs(cluster: &Cluster) -> Vec<(&crate::model::Vm, Vec<&TalosConfig>)> {
    if cluster.talos.nodes.is_empty() {
        cluster
            .vms
            .iter()
            .filter_map(|vm| {
                Some((
                    vm,
                    cluster
                        .talos
                        .configs_for_role(cluster.role_of(vm)?)
                        .collect(),
                ))
            })
            .collect()
    } else {
        cluster
            .talos
            .nodes
            .iter()
            .filter_map(|node| {
                Some((
                    cluster.vm_of(node)?,
                    cluster.talos.configs_for(node).collect(),
                ))
            })
            .collect()
    }
}

/// Where Longhorn keeps replicas when `defaultSettings.defaultDataPath` is not set (the manager's
/// default, `SettingDefinitionDefaultDataPath`).
pub const LONGHORN_DEFAULT_DATA_PATH: &str = "/var/lib/longhorn";

/// Where Talos mounts user volumes; Talos bind-mounts it into the kubelet itself (≥ 1.10).
pub const USER_VOLUME_ROOT: &str = "/var/mnt";

/// The node label that marks a node for a default disk under `createDefaultDiskLabeledNodes`.
pub const CREATE_DEFAULT_DISK_LABEL: &str = "node.longhorn.io/create-default-disk";

/// Longhorn's data path: as written, or the manager's default when the values do not set it.
/// `None` when Longhorn is not part of the cluster.
pub fn longhorn_data_path(cluster: &Cluster) -> Option<(String, Option<Location>)> {
    let longhorn = cluster.longhorn.as_ref()?;
    Some(match &longhorn.data_path {
        Some(path) => (normalize(&path.value).to_string(), Some(path.at)),
        None => (LONGHORN_DEFAULT_DATA_PATH.to_string(), None),
    })
}

/// The cluster's Talos version, when known and well-formed.
pub fn talos_version(cluster: &Cluster) -> Option<TalosVersion> {
    TalosVersion::parse(&cluster.versions.talos.as_ref()?.value).ok()
}

/// A path without its trailing slashes (`/var/lib/longhorn/` → `/var/lib/longhorn`).
pub fn normalize(path: &str) -> &str {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// Whether `inner` is `outer` or lies below it.
pub fn path_covers(outer: &str, inner: &str) -> bool {
    let (outer, inner) = (normalize(outer), normalize(inner));
    outer == "/"
        || inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether pods may run on control planes (so they hold Longhorn replicas too).
fn schedules_on_control_planes(cluster: &Cluster) -> bool {
    cluster
        .longhorn
        .as_ref()
        .is_some_and(|l| l.schedules_on_control_planes())
        || cluster.talos.configs.iter().any(|c| {
            c.allow_scheduling_on_control_planes
                .as_ref()
                .is_some_and(|f| f.value)
        })
}

/// Whether a Talos node stores Longhorn replicas, when that can be known (DESIGN §6 "Roles and
/// storage nodes"): labelled nodes under `createDefaultDiskLabeledNodes`, otherwise the workers
/// plus the control planes that may schedule pods.
pub fn is_storage_node(cluster: &Cluster, node: &TalosNode) -> Option<bool> {
    let longhorn = cluster.longhorn.as_ref()?;
    if longhorn
        .create_default_disk_labeled_nodes
        .as_ref()
        .is_some_and(|f| f.value)
    {
        return Some(has_create_default_disk_label(node));
    }
    if let Some(storage) = cluster.vm_of(node).and_then(|vm| vm.storage_node) {
        return Some(storage);
    }
    Some(match node.role? {
        Role::Worker => true,
        Role::Controlplane => schedules_on_control_planes(cluster),
    })
}

/// Whether a node carries `node.longhorn.io/create-default-disk` with a value Longhorn acts on.
pub fn has_create_default_disk_label(node: &TalosNode) -> bool {
    node.labels.iter().any(|(key, value)| {
        key == CREATE_DEFAULT_DISK_LABEL
            && matches!(value.value.to_ascii_lowercase().as_str(), "true" | "config")
    })
}

/// The machine configs that together make up the config of some Longhorn storage nodes.
pub struct StorageGroup<'a> {
    /// The nodes (or role) for messages: `w-1, w-2` or `workers`.
    pub label: String,
    /// Most general first, in the order Talos applies them.
    pub configs: Vec<&'a TalosConfig>,
}

impl StorageGroup<'_> {
    /// The most specific config that says something through `pick`, else the most specific
    /// role-wide patch, else the most specific config: where a missing entry belongs.
    pub fn fix_location(
        &self,
        pick: impl Fn(&TalosConfig) -> Option<Location>,
    ) -> Option<Location> {
        // Never an unrelated patch (udev rules, a GPU driver): the file that holds the kubelet
        // mounts, else the machine config itself (role, install), else a role-wide patch.
        let holds_mounts = |c: &&&TalosConfig| c.kubelet_at.is_some() || !c.extra_mounts.is_empty();
        let is_machine_config = |c: &&&TalosConfig| {
            c.machine_type.is_some() || c.install_disk.is_some() || c.install_image.is_some()
        };
        let is_role_wide = |c: &&&TalosConfig| !matches!(c.scope, crate::model::Scope::Node(_));
        self.configs
            .iter()
            .rev()
            .find_map(|c| pick(c))
            .or_else(|| {
                self.configs
                    .iter()
                    .rev()
                    .find(holds_mounts)
                    .map(|c| c.origin)
            })
            .or_else(|| {
                self.configs
                    .iter()
                    .rev()
                    .find(is_machine_config)
                    .map(|c| c.origin)
            })
            .or_else(|| {
                self.configs
                    .iter()
                    .rev()
                    .find(is_role_wide)
                    .map(|c| c.origin)
            })
            .or_else(|| self.configs.last().map(|c| c.origin))
    }
}

/// The Longhorn storage nodes grouped by the set of configs that applies to them. Without
/// Talos nodes in the model, one group per storage role from the role-wide patches. Empty when
/// Longhorn is absent or no Talos config is known.
pub fn storage_groups<'a>(cluster: &'a Cluster) -> Vec<StorageGroup<'a>> {
    if cluster.longhorn.is_none() || cluster.talos.configs.is_empty() {
        return Vec::new();
    }
    // Each group by its configs (which configs, not what they hold), looked up once per node.
    let mut groups: Vec<StorageGroup<'a>> = Vec::new();
    let mut group_index: HashMap<Vec<*const TalosConfig>, usize> = HashMap::new();
    let mut add = |label: &str, configs: Vec<&'a TalosConfig>| {
        if configs.is_empty() {
            return;
        }
        let key = configs.iter().map(|&config| std::ptr::from_ref(config));
        match group_index.entry(key.collect()) {
            Entry::Occupied(entry) => {
                let group = &mut groups[*entry.get()];
                group.label.push_str(", ");
                group.label.push_str(label);
            }
            Entry::Vacant(entry) => {
                entry.insert(groups.len());
                groups.push(StorageGroup {
                    label: label.to_string(),
                    configs,
                });
            }
        }
    };
    if cluster.talos.nodes.is_empty() {
        add(
            "the workers",
            cluster.talos.configs_for_role(Role::Worker).collect(),
        );
        if schedules_on_control_planes(cluster) {
            add(
                "the control planes",
                cluster.talos.configs_for_role(Role::Controlplane).collect(),
            );
        }
    } else {
        for node in &cluster.talos.nodes {
            if is_storage_node(cluster, node) == Some(true) {
                add(&node.name, cluster.talos.configs_for(node).collect());
            }
        }
    }
    groups
}

/// Keeps the first of findings that say the same thing at the same place (a group of nodes
/// sharing one patch would otherwise repeat it).
/// The line to change inside the mapping a fact points at (the mapping itself, or the value of
/// its `name:`): `path` within it, e.g. a mount's `options` or a volume's
/// `provisioning.diskSelector.match`. A scalar is pointed at by its value, a list or mapping by
/// its key; the nearest existing parent stands in for a missing key, the fact's own place for
/// facts without documents (an intent).
pub fn place_in(cluster: &Cluster, at: Location, path: &[&str]) -> Location {
    let owner = cluster
        .talos
        .configs
        .iter()
        .filter(|c| c.file == Some(at.file))
        .flat_map(|c| &c.documents)
        .find_map(|doc| owner_of(doc, at));
    let Some(owner) = owner else { return at };
    let mut place = at;
    let mut node = owner;
    for key in path {
        let Some((key_node, value)) = node.entry(key) else {
            break;
        };
        let span = if value.as_map().is_some() || value.as_seq().is_some() {
            key_node.span
        } else {
            value.span
        };
        place = Location::new(at.file, span);
        node = value;
    }
    place
}

/// The mapping whose span, or whose `name:` value's span, is `at`.
fn owner_of(node: &Node, at: Location) -> Option<&Node> {
    if node.as_map().is_some()
        && (node.span == at.span || node.get("name").is_some_and(|n| n.span == at.span))
    {
        return Some(node);
    }
    let children: Vec<&Node> = match (node.as_map(), node.as_seq()) {
        (Some(entries), _) => entries.iter().map(|(_, v)| v).collect(),
        (None, Some(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    children.into_iter().find_map(|child| owner_of(child, at))
}

pub fn push_unique(out: &mut Vec<Finding>, finding: Finding) {
    if !out
        .iter()
        .any(|f| f.at == finding.at && f.message == finding.message)
    {
        out.push(finding);
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_itself_and_below_but_not_siblings() {
        assert!(path_covers("/var/mnt/longhorn", "/var/mnt/longhorn/"));
        assert!(path_covers("/var/mnt", "/var/mnt/longhorn"));
        assert!(!path_covers("/var/mnt/long", "/var/mnt/longhorn"));
        assert!(!path_covers("/var/mnt/longhorn", "/var/mnt"));
        assert!(path_covers("/", "/anything"));
    }
}
