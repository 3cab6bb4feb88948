use super::{USER_VOLUME_ROOT, longhorn_data_path, path_covers, push_unique, storage_groups};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL004",
    name: "longhorn-mount-missing",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "Longhorn's data path is not visible to the kubelet (no `extraMounts` entry or user volume provides it).",
    docs: r#"## What
On the Longhorn storage nodes, no kubelet `extraMounts` entry covers Longhorn's data path
(`defaultSettings.defaultDataPath`, default `/var/lib/longhorn`).

- **Error** when the path lies outside `/var/mnt` (for example `/var/lib/longhorn`): the
  kubelet, and so Longhorn's pods, see a different directory than the host.
- **Warning** for a path under `/var/mnt` on Talos 1.10–1.13: Talos bind-mounts `/var/mnt`
  into the kubelet itself, but Longhorn's Talos guide still asks for the `rshared` bind mount.
- Silent on Talos 1.14, which rejects `machine.kubelet` next to its `KubeletConfig` and
  propagates `/var/mnt` itself.

## Why
The kubelet runs in a container on Talos. Longhorn's CSI plugin mounts volumes through it; a
data path the kubelet cannot see means replicas are written to the kubelet's private filesystem
and volume mounts fail or vanish on restart.

## Example
```yaml
machine:
  kubelet:
    extraArgs: {}
```
(Longhorn keeps its default `/var/lib/longhorn`.)

## Fix
```yaml
machine:
  kubelet:
    extraMounts:
      - destination: /var/mnt/longhorn
        type: bind
        source: /var/mnt/longhorn
        options: [bind, rshared, rw]
```
with a `UserVolumeConfig` named `longhorn` and `defaultDataPath: /var/mnt/longhorn`
(Talos ≥ 1.10), or the same mount of `/var/lib/longhorn` on Talos 1.9.

## Source
longhorn.io "Talos Linux Support" (data path sections); siderolabs/talos
`internal/app/machined/pkg/system/services/kubelet.go` (the built-in `/var/mnt` mount);
talhorn research `talos.md` §3.3, `longhorn.md` §2.
"#,
};

pub struct LonghornMountMissing;

/// The first Talos minor that rejects `machine.kubelet`.
const MINOR_WITHOUT_MACHINE_KUBELET: u32 = 14;
/// The first Talos minor that mounts `/var/mnt` into the kubelet.
const MINOR_WITH_USER_VOLUMES: u32 = 10;

/// How sure the rule is that the kubelet cannot see the path, from where the path lies and the
/// Talos version. `None`: silent.
fn severity(data_path: &str, talos_minor: Option<u32>) -> Option<Severity> {
    if !path_covers(USER_VOLUME_ROOT, data_path) {
        return Some(Severity::Error);
    }
    match talos_minor? {
        m if m >= MINOR_WITHOUT_MACHINE_KUBELET => None,
        m if m >= MINOR_WITH_USER_VOLUMES => Some(Severity::Warning),
        _ => Some(Severity::Error),
    }
}

impl Rule for LonghornMountMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some((data_path, data_path_at)) = longhorn_data_path(cluster) else {
            return;
        };
        let Some(severity) = severity(&data_path, cluster.talos_minor()) else {
            return;
        };
        for group in storage_groups(cluster) {
            let mounted = group
                .configs
                .iter()
                .flat_map(|c| &c.extra_mounts)
                .any(|m| path_covers(&m.value.destination, &data_path));
            if mounted {
                continue;
            }
            let Some(at) = group.fix_location(|c| c.kubelet_at) else {
                continue;
            };
            let why = if severity == Severity::Error {
                "the kubelet cannot see it, so Longhorn's volumes will not mount"
            } else {
                "Longhorn's Talos guide asks for an `rshared` bind mount even under /var/mnt"
            };
            let mut finding = META
                .finding_at(
                    severity,
                    at,
                    format!(
                        "no kubelet `extraMounts` entry covers Longhorn's data path `{data_path}` on {}: {why}",
                        group.label
                    ),
                )
                .help(format!(
                    "add to `machine.kubelet.extraMounts`: {{destination: {data_path}, type: bind, source: {data_path}, options: [bind, rshared, rw]}}"
                ));
            if let Some(path_at) = data_path_at {
                finding = finding.related(path_at, "Longhorn's data path");
            }
            push_unique(out, finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Mount, Role, Scope};
    use crate::rules::talos::testing::{at, cluster, config, fact, longhorn, run};
    use crate::source::Fact;

    fn mount(destination: &str) -> Fact<Mount> {
        fact(
            Mount {
                destination: destination.into(),
                source: destination.into(),
                kind: "bind".into(),
                options: vec!["bind".into(), "rshared".into(), "rw".into()],
            },
            50,
        )
    }

    #[test]
    fn severity_follows_path_and_version() {
        assert_eq!(
            severity("/var/lib/longhorn", Some(11)),
            Some(Severity::Error)
        );
        assert_eq!(severity("/var/lib/longhorn", None), Some(Severity::Error));
        assert_eq!(
            severity("/var/mnt/longhorn", Some(9)),
            Some(Severity::Error)
        );
        assert_eq!(
            severity("/var/mnt/longhorn", Some(12)),
            Some(Severity::Warning)
        );
        assert_eq!(severity("/var/mnt/longhorn", Some(14)), None);
        assert_eq!(severity("/var/mnt/longhorn", None), None);
    }

    #[test]
    fn fires_at_the_kubelet_section_of_the_worker_patch() {
        let mut c = cluster();
        c.longhorn = Some(longhorn());
        let mut worker = config(Scope::Role(Role::Worker), 5);
        worker.kubelet_at = Some(at(7));
        c.talos.configs.push(worker);
        let found = run(&LonghornMountMissing, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(7));
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("/var/lib/longhorn"));
    }

    #[test]
    fn a_covering_mount_or_a_control_plane_patch_only_is_silent() {
        let mut c = cluster();
        let mut l = longhorn();
        l.data_path = Some(fact("/var/mnt/longhorn".into(), 3));
        c.longhorn = Some(l);
        c.talos
            .configs
            .push(config(Scope::Role(Role::Controlplane), 5));
        assert!(
            run(&LonghornMountMissing, &c).is_empty(),
            "control planes hold no replicas"
        );
        let mut worker = config(Scope::Role(Role::Worker), 6);
        worker.extra_mounts.push(mount("/var/mnt/longhorn/"));
        c.talos.configs.push(worker);
        assert!(run(&LonghornMountMissing, &c).is_empty());
    }

    #[test]
    fn a_shared_patch_is_reported_once_for_many_nodes() {
        let mut c = cluster();
        c.longhorn = Some(longhorn());
        c.talos.configs.push(config(Scope::Role(Role::Worker), 5));
        c.talos
            .nodes
            .push(crate::rules::talos::testing::node("w-1", Role::Worker, 20));
        c.talos
            .nodes
            .push(crate::rules::talos::testing::node("w-2", Role::Worker, 21));
        let found = run(&LonghornMountMissing, &c);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("w-1, w-2"));
    }
}
