use super::{longhorn_data_path, path_covers};
use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Mount};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL005",
    name: "mount-propagation",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "The kubelet mount of Longhorn's data path lacks `rshared` or `bind`/`rbind`.",
    docs: r#"## What
A kubelet `extraMounts` entry that provides Longhorn's data path (it covers
`defaultDataPath`, or, without Longhorn values, its destination names `longhorn`) whose
`options` lack `rshared`, or lack both `bind` and `rbind`.

## Why
Longhorn mounts block devices under its data path from inside a pod. Without `rshared`
propagation those mounts never reach the host and the kubelet: volumes appear empty or fail to
attach. Talos's own field documentation says either `bind` or `rbind` is required in `options`,
yet Talos does not validate it; the mount silently does something else.

## Example
```yaml
machine:
  kubelet:
    extraMounts:
      - destination: /var/mnt/longhorn
        type: bind
        source: /var/mnt/longhorn
        options: [rw]
```

## Fix
`options: [bind, rshared, rw]`.

## Source
siderolabs/talos `v1alpha1_types.go` `ExtraMount` ("either `bind` or `rbind` are required");
longhorn.io "Talos Linux Support"; talhorn research `talos.md` §3.1.
"#,
};

pub struct MountPropagation;

/// What a Longhorn mount's options lack, for the message (empty when nothing).
fn missing_options(mount: &Mount) -> Vec<&'static str> {
    let has = |name: &str| mount.options.iter().any(|o| o.trim() == name);
    let mut missing = Vec::new();
    if !has("bind") && !has("rbind") {
        missing.push("bind");
    }
    if !has("rshared") {
        missing.push("rshared");
    }
    missing
}

impl Rule for MountPropagation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let data_path = longhorn_data_path(cluster).map(|(path, _)| path);
        let is_longhorn_mount = |mount: &Mount| match &data_path {
            Some(path) => path_covers(&mount.destination, path),
            None => mount.destination.contains("longhorn"),
        };
        for mount in cluster.talos.configs.iter().flat_map(|c| &c.extra_mounts) {
            if !is_longhorn_mount(&mount.value) {
                continue;
            }
            let missing = missing_options(&mount.value);
            if missing.is_empty() {
                continue;
            }
            out.push(
                META.finding(
                    super::place_in(cluster, mount.at, &["options"]),
                    format!(
                        "the kubelet mount of `{}` has options [{}] without `{}`: Longhorn's mounts will not propagate to the host",
                        mount.value.destination,
                        mount.value.options.join(", "),
                        missing.join("` and `")
                    ),
                )
                .help("use `options: [bind, rshared, rw]`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(options: &[&str]) -> Mount {
        Mount {
            destination: "/var/mnt/longhorn".into(),
            source: "/var/mnt/longhorn".into(),
            kind: "bind".into(),
            options: options.iter().map(|o| (*o).to_string()).collect(),
        }
    }

    #[test]
    fn needs_rshared_and_one_of_bind_or_rbind() {
        assert!(missing_options(&mount(&["bind", "rshared", "rw"])).is_empty());
        assert!(missing_options(&mount(&["rbind", "rshared"])).is_empty());
        assert_eq!(missing_options(&mount(&["rw"])), vec!["bind", "rshared"]);
        assert_eq!(
            missing_options(&mount(&["bind", "rslave"])),
            vec!["rshared"]
        );
    }
}
