use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Longhorn};
use crate::rules::talos::{longhorn_data_path, path_covers};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;

pub static META: RuleMeta = RuleMeta {
    code: "LHN003",
    name: "data-path-mismatch",
    layer: Layer::Longhorn,
    severity: Severity::Error,
    summary: "Longhorn's `defaultDataPath` is not the path Talos mounts for it.",
    docs: r#"## What
The Talos configs provide a place for Longhorn — a `UserVolumeConfig` (mounted at
`/var/mnt/<name>`), a `machine.disks` mount, or a kubelet `extraMounts` entry whose path names
`longhorn` — but `defaultSettings.defaultDataPath` (default `/var/lib/longhorn`) lies in none
of them.

## Why
Longhorn creates its default disk at `defaultDataPath`. If that is not the prepared volume,
replicas go to the system disk (or to a directory the kubelet cannot see) while the dedicated
disk stays empty. Changing the path later means evacuating every replica.

Silent when the repository adds Longhorn disks beside the default one — a StorageClass that
selects disks by tag (`diskSelector`), or Longhorn `Node` resources that declare disks: the
prepared path is then one of those disks, not a place for `defaultDataPath` (a real repository
mounts a USB SSD at `/var/lib/longhorn-ssd`, adds it as a disk tagged `ssd` and keeps the
default disk). TAL015 still reports a default disk left on the system disk.

## Example
```yaml
# talos/worker.yaml: UserVolumeConfig name: longhorn  → /var/mnt/longhorn
# kubernetes/longhorn/values.yaml
defaultSettings:
  defaultDataPath: /var/lib/longhorn
```

## Fix
`defaultSettings.defaultDataPath: /var/mnt/longhorn` (the user volume's mount point), set before
the first install.

## Source
longhorn.io "Talos Linux Support" ("we must first set our default data path to
/var/mnt/longhorn"); longhorn/longhorn#11485; talhorn research `longhorn.md` §2.
"#,
};

pub struct DataPathMismatch;

/// The places Talos prepares on some node: (path, where it is declared, what it is).
fn talos_paths(cluster: &Cluster) -> Vec<(String, Location, &'static str)> {
    let mut paths = Vec::new();
    for config in &cluster.talos.configs {
        for volume in &config.user_volumes {
            paths.push((volume.value.mount_point(), volume.at, "user volume"));
        }
        for disk in &config.machine_disks {
            if let Some(mountpoint) = &disk.value.mountpoint {
                paths.push((mountpoint.clone(), disk.at, "machine disk"));
            }
        }
        for mount in &config.extra_mounts {
            paths.push((mount.value.destination.clone(), mount.at, "kubelet mount"));
        }
    }
    paths
}

/// Whether the repository gives Longhorn disks other than the default one at `defaultDataPath`.
fn adds_disks_beside_the_default(longhorn: &Longhorn) -> bool {
    let selects_tagged_disks = longhorn.classes.iter().any(|class| {
        class
            .disk_selector
            .as_ref()
            .is_some_and(|tags| !tags.value.is_empty())
    });
    selects_tagged_disks || !longhorn.node_disks.is_empty()
}

impl Rule for DataPathMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let (Some(longhorn), Some((data_path, data_path_at))) =
            (cluster.longhorn.as_ref(), longhorn_data_path(cluster))
        else {
            return;
        };
        if adds_disks_beside_the_default(longhorn) {
            return;
        }
        let paths = talos_paths(cluster);
        if paths
            .iter()
            .any(|(path, _, _)| path_covers(path, &data_path))
        {
            return;
        }
        let longhorn_paths: Vec<_> = paths
            .iter()
            .filter(|(path, _, _)| path.contains("longhorn"))
            .collect();
        let Some((first_path, _, _)) = longhorn_paths.first() else {
            return;
        };
        let (at, written) = match data_path_at {
            Some(at) => (at, format!("`defaultDataPath: {data_path}`")),
            None => (
                longhorn.at,
                format!("Longhorn's default data path `{data_path}`"),
            ),
        };
        let mut finding = META
            .finding(at, format!("{written} is not where Talos prepares Longhorn's storage (`{first_path}`): replicas will not land on it"))
            .help(format!("set `defaultSettings.defaultDataPath: {first_path}`"));
        for (path, path_at, what) in longhorn_paths {
            finding = finding.related(*path_at, format!("{what} at `{path}`"));
        }
        out.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Role, Scope, UserVolume};
    use crate::rules::talos::testing::{at, cluster, config, fact, longhorn, run};

    fn with_volume(data_path: Option<&str>) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.data_path = data_path.map(|p| fact(p.to_string(), 3));
        c.longhorn = Some(l);
        let mut worker = config(Scope::Role(Role::Worker), 5);
        worker.user_volumes.push(fact(
            UserVolume {
                name: "longhorn".into(),
                volume_type: "partition".into(),
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
    fn the_default_path_beside_a_longhorn_volume_fires() {
        let found = run(&DataPathMismatch, &with_volume(None));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(900));
        assert_eq!(found[0].related[0].at, at(40));
        let found = run(&DataPathMismatch, &with_volume(Some("/var/lib/longhorn/")));
        assert_eq!(found[0].at, at(3));
    }

    #[test]
    fn a_prepared_path_added_as_a_tagged_disk_is_silent() {
        let mut c = with_volume(None);
        let longhorn = c.longhorn.as_mut().expect("longhorn");
        longhorn.classes.push(crate::model::longhorn::StorageClass {
            name: "longhorn-ssd".into(),
            at: at(60),
            replicas: None,
            disk_selector: Some(fact(vec!["ssd".to_string()], 61)),
            node_selector: None,
        });
        assert!(run(&DataPathMismatch, &c).is_empty());
        // A class without a disk selector adds no disk.
        let longhorn = c.longhorn.as_mut().expect("longhorn");
        longhorn.classes[0].disk_selector = None;
        assert_eq!(run(&DataPathMismatch, &c).len(), 1);
    }

    #[test]
    fn the_volume_mount_point_is_silent() {
        assert!(run(&DataPathMismatch, &with_volume(Some("/var/mnt/longhorn/"))).is_empty());
    }
}
