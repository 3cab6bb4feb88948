use super::{longhorn_data_path, path_covers, push_unique, storage_groups};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL015",
    name: "longhorn-on-ephemeral",
    layer: Layer::Talos,
    severity: Severity::Warning,
    summary: "Longhorn's data lives on the Talos system disk (no user volume or data disk holds its path).",
    docs: r#"## What
On the Longhorn storage nodes no `UserVolumeConfig` (partition or disk) and no `machine.disks`
mount holds Longhorn's data path, or only a `volumeType: directory` volume does: replicas are
written to the `EPHEMERAL` partition of the system disk.

## Why
`EPHEMERAL` also holds container images, logs and etcd; Longhorn filling it evicts pods and can
stall the node. Talos wipes it on reset and on some reinstall paths, taking every replica with
it, and its size is tied to the OS disk. Longhorn and Talos both recommend a dedicated disk.

## Example
```yaml
apiVersion: v1alpha1
kind: UserVolumeConfig
name: longhorn
volumeType: directory
```

## Fix
Give the VM a data disk (with `serial=`), and provision it for Longhorn:
```yaml
apiVersion: v1alpha1
kind: UserVolumeConfig
name: longhorn
provisioning:
  diskSelector:
    match: disk.serial == 'longhorn'
  minSize: 100GiB
  grow: true
```
with `defaultDataPath: /var/mnt/longhorn`.

## Source
longhorn.io best practices ("dedicated disk … rather than the root disk"); Talos system
requirements ("separate disks for storage"); talhorn research `longhorn.md` §7, `talos.md` §6.
"#,
};

pub struct LonghornOnEphemeral;

impl Rule for LonghornOnEphemeral {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some((data_path, data_path_at)) = longhorn_data_path(cluster) else {
            return;
        };
        for group in storage_groups(cluster) {
            let volume = group
                .configs
                .iter()
                .flat_map(|c| &c.user_volumes)
                .rfind(|v| path_covers(&v.value.mount_point(), &data_path));
            let on_machine_disk = group
                .configs
                .iter()
                .flat_map(|c| &c.machine_disks)
                .any(|d| {
                    d.value
                        .mountpoint
                        .as_deref()
                        .is_some_and(|m| path_covers(m, &data_path))
                });
            let finding = match volume {
                Some(v) if v.value.volume_type == "directory" => META.finding(
                    super::place_in(cluster, v.at, &["volumeType"]),
                    format!(
                        "user volume `{}` is a directory on the system disk: Longhorn's replicas under `{data_path}` share EPHEMERAL with images and logs",
                        v.value.name
                    ),
                ),
                Some(_) => continue,
                None if on_machine_disk => continue,
                None => {
                    let Some(at) = group.fix_location(|c| c.user_volumes.first().map(|v| v.at)) else {
                        continue;
                    };
                    let finding = META.finding(
                        at,
                        format!(
                            "no user volume or data disk holds Longhorn's data path `{data_path}` on {}: replicas land on the system disk's EPHEMERAL partition",
                            group.label
                        ),
                    );
                    match data_path_at {
                        Some(path_at) => finding.related(path_at, "Longhorn's data path"),
                        None => finding,
                    }
                }
            };
            push_unique(
                out,
                finding.help("give the VM a data disk and a partition or disk `UserVolumeConfig` for Longhorn, mounted at the data path"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Role, Scope, UserVolume};
    use crate::rules::talos::testing::{at, cluster, config, fact, longhorn, run};

    fn with_volume(volume_type: &str) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.data_path = Some(fact("/var/mnt/longhorn".into(), 3));
        c.longhorn = Some(l);
        let mut worker = config(Scope::Role(Role::Worker), 5);
        worker.user_volumes.push(fact(
            UserVolume {
                name: "longhorn".into(),
                volume_type: volume_type.into(),
                disk_selector: None,
                min_size: None,
                max_size: None,
            },
            40,
        ));
        c.talos.configs.push(worker);
        c
    }

    #[test]
    fn a_partition_volume_is_silent_and_a_directory_one_fires() {
        assert!(run(&LonghornOnEphemeral, &with_volume("partition")).is_empty());
        let found = run(&LonghornOnEphemeral, &with_volume("directory"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(40));
    }

    #[test]
    fn the_default_path_without_volume_fires_at_the_patch() {
        let mut c = cluster();
        c.longhorn = Some(longhorn());
        c.talos.configs.push(config(Scope::Role(Role::Worker), 5));
        let found = run(&LonghornOnEphemeral, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(5));
        assert!(found[0].message.contains("/var/lib/longhorn"));
    }
}
