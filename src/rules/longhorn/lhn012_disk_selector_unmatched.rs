use crate::finding::{Finding, Severity};
use crate::knowledge::longhorn::{DEFAULT_DISKS_CONFIG, default_disk_tags};
use crate::model::Cluster;
use crate::rules::talos::CREATE_DEFAULT_DISK_LABEL;
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;

pub static META: RuleMeta = RuleMeta {
    code: "LHN012",
    name: "disk-selector-unmatched",
    layer: Layer::Longhorn,
    severity: Severity::Error,
    summary: "A Longhorn StorageClass selects disks by tags that no disk the repository declares carries.",
    docs: r#"## What
A StorageClass of the `driver.longhorn.io` provisioner (or the chart's default class, from
`persistence.defaultDiskSelector`) whose `diskSelector` names tags that no single disk carries,
while the repository declares every Longhorn disk: `createDefaultDiskLabeledNodes` is on (so
Longhorn creates disks only on labelled nodes), every Talos node's
`node.longhorn.io/create-default-disk` label is known, each node labelled `config` has a valid
`node.longhorn.io/default-disks-config` annotation in the repository, and the repository tags
disks declaratively (such an annotation, or a Longhorn `Node` resource with `spec.disks`). A node
labelled `true` gets one default disk at `defaultDataPath`, which has no tags.

Silent when any of that is unknown: a node labelled `config` whose annotation is not in the
repository (or is invalid, which Longhorn ignores), a VM without a Talos node, the setting off
(disks then come from every node, and tags are often set in the Longhorn UI), or no declared
disk tags at all. The `nodeSelector` is read but not checked: node tags are set in the UI as
often as by the `node.longhorn.io/default-node-tags` annotation, so the repository cannot prove
which exist.

## Why
Longhorn places a replica only on a disk that carries every tag of the volume's disk selector.
With no such disk, every volume of the class fails to schedule ("replica scheduling failed",
the PVC stays Pending or the volume faulted).

## Example
```yaml
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: longhorn-ssd
provisioner: driver.longhorn.io
parameters:
  diskSelector: "ssd"     # the disks are tagged ["nvme"]
```
with `node.longhorn.io/default-disks-config: '[{"path":"/var/mnt/longhorn","tags":["nvme"]}]'`
on every storage node.

## Fix
Use a tag the declared disks carry, or add the tag to a disk in the
`node.longhorn.io/default-disks-config` annotation (on nodes labelled `config`; Longhorn applies
it only to a node that has no disks yet) or to the disk in the Longhorn `Node` resource.

## Source
longhorn.io "Storage Tags" and "Configure Defaults for Nodes and Disks" (1.10); longhorn-manager
`kubernetes_node_controller.go` (default disks from the label and annotation), the scheduler's
disk tag matching; talhorn research `longhorn.md` §4.
"#,
};

pub struct DiskSelectorUnmatched;

/// A disk the repository declares: its tags and where they are written.
struct Declared {
    tags: Vec<String>,
    at: Location,
}

/// Every disk Longhorn creates, when the repository provably declares them all and tags some
/// declaratively; `None` otherwise.
fn declared_disks(cluster: &Cluster) -> Option<Vec<Declared>> {
    let longhorn = cluster.longhorn.as_ref()?;
    if !longhorn.create_default_disk_labeled_nodes.as_ref()?.value {
        return None;
    }
    let nodes = &cluster.talos.nodes;
    if nodes.is_empty()
        || cluster
            .vms
            .iter()
            .any(|vm| cluster.talos_node_of(vm).is_none())
    {
        return None;
    }
    let mut disks = Vec::new();
    let mut tagged_declaratively = false;
    for node in nodes {
        let Some(label) = node.label(CREATE_DEFAULT_DISK_LABEL) else {
            continue;
        };
        match label.value.to_ascii_lowercase().as_str() {
            "true" => disks.push(Declared {
                tags: Vec::new(),
                at: label.at,
            }),
            "config" => {
                let annotation = node.annotation(DEFAULT_DISKS_CONFIG)?;
                for tags in default_disk_tags(&annotation.value)? {
                    disks.push(Declared {
                        tags,
                        at: annotation.at,
                    });
                }
                tagged_declaratively = true;
            }
            _ => {}
        }
    }
    for disk in &longhorn.node_disks {
        disks.push(Declared {
            tags: disk.tags.clone(),
            at: disk.at,
        });
        tagged_declaratively = true;
    }
    tagged_declaratively.then_some(disks)
}

impl Rule for DiskSelectorUnmatched {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = &cluster.longhorn else {
            return;
        };
        let selectors: Vec<_> = longhorn
            .classes
            .iter()
            .filter_map(|c| Some((c, c.disk_selector.as_ref().filter(|s| !s.value.is_empty())?)))
            .collect();
        if selectors.is_empty() {
            return;
        }
        let Some(disks) = declared_disks(cluster) else {
            return;
        };
        let mut known: Vec<&str> = disks
            .iter()
            .flat_map(|d| d.tags.iter().map(String::as_str))
            .collect();
        known.sort_unstable();
        known.dedup();
        for (class, selector) in selectors {
            let wanted = &selector.value;
            if disks
                .iter()
                .any(|d| wanted.iter().all(|tag| d.tags.contains(tag)))
            {
                continue;
            }
            let missing: Vec<&String> = wanted
                .iter()
                .filter(|tag| !known.contains(&tag.as_str()))
                .collect();
            let why = if missing.is_empty() {
                format!("no declared disk carries all of `{}`", wanted.join(","))
            } else {
                let names: Vec<String> = missing.iter().map(|t| format!("`{t}`")).collect();
                format!("no declared disk is tagged {}", names.join(", "))
            };
            let declared = if known.is_empty() {
                "the declared disks have no tags".to_owned()
            } else {
                format!("the declared disk tags are {}", known.join(", "))
            };
            let mut finding = META
                .finding(
                    selector.at,
                    format!(
                        "StorageClass `{}` selects disks by `{}`, but {why}: its volumes' replicas cannot be scheduled",
                        class.name,
                        wanted.join(",")
                    ),
                )
                .help(format!(
                    "use tags a declared disk carries ({declared}), or tag a disk in `{DEFAULT_DISKS_CONFIG}` or the Longhorn `Node` resource"
                ));
            let mut related: Vec<Location> = disks.iter().map(|d| d.at).collect();
            related.dedup();
            for at in related {
                finding = finding.related(at, "a disk is declared here");
            }
            out.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::model::longhorn::{NodeDisk, StorageClass};
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, node, run};

    /// A cluster with the setting on, one node labelled `label` (annotated with `config` when
    /// given) and a class selecting `selector`.
    fn with(label: &str, config: Option<&str>, selector: &str) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.create_default_disk_labeled_nodes = Some(fact(true, 3));
        l.classes.push(StorageClass {
            name: "longhorn-ssd".into(),
            at: at(5),
            replicas: None,
            disk_selector: Some(fact(crate::model::longhorn::tag_list(selector), 7)),
            node_selector: None,
        });
        c.longhorn = Some(l);
        let mut n = node("w-1", Role::Worker, 20);
        n.labels
            .push((CREATE_DEFAULT_DISK_LABEL.into(), fact(label.into(), 25)));
        if let Some(config) = config {
            n.annotations
                .push((DEFAULT_DISKS_CONFIG.into(), fact(config.into(), 30)));
        }
        c.talos.nodes.push(n);
        c
    }

    const NVME: &str = r#"[{"path":"/var/mnt/longhorn","tags":["nvme","fast"]}]"#;

    #[test]
    fn a_tag_no_declared_disk_carries_fires_at_the_selector() {
        let found = run(&DiskSelectorUnmatched, &with("config", Some(NVME), "ssd"));
        assert_eq!(found.iter().map(|f| f.at).collect::<Vec<_>>(), vec![at(7)]);
        assert!(
            found[0]
                .message
                .contains("no declared disk is tagged `ssd`")
        );
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap_or_default()
                .contains("fast, nvme")
        );
    }

    #[test]
    fn tags_split_across_disks_fire() {
        let split = r#"[{"path":"/a","tags":["nvme"]},{"path":"/b","tags":["fast"]}]"#;
        let found = run(
            &DiskSelectorUnmatched,
            &with("config", Some(split), "nvme,fast"),
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("carries all of `nvme,fast`"));
    }

    #[test]
    fn a_disk_with_every_tag_is_silent() {
        assert!(
            run(
                &DiskSelectorUnmatched,
                &with("config", Some(NVME), "fast,nvme")
            )
            .is_empty()
        );
    }

    #[test]
    fn what_the_repository_cannot_prove_is_silent() {
        // The annotation is not in the repository, or Longhorn ignores it.
        assert!(run(&DiskSelectorUnmatched, &with("config", None, "ssd")).is_empty());
        let invalid = r#"[{"tags":["nvme"]}]"#;
        assert!(
            run(
                &DiskSelectorUnmatched,
                &with("config", Some(invalid), "ssd")
            )
            .is_empty()
        );
        // Only default disks: their tags, if any, come from the Longhorn UI.
        assert!(run(&DiskSelectorUnmatched, &with("true", None, "ssd")).is_empty());
        // The setting off: every node gets a default disk, tagged outside the repository.
        let mut off = with("config", Some(NVME), "ssd");
        if let Some(l) = &mut off.longhorn {
            l.create_default_disk_labeled_nodes = Some(fact(false, 3));
        }
        assert!(run(&DiskSelectorUnmatched, &off).is_empty());
    }

    #[test]
    fn longhorn_node_resources_declare_disks_too() {
        let mut c = with("true", None, "ssd");
        if let Some(l) = &mut c.longhorn {
            l.node_disks.push(NodeDisk {
                node: "w-1".into(),
                tags: vec!["hdd".into()],
                at: at(40),
            });
        }
        assert_eq!(run(&DiskSelectorUnmatched, &c).len(), 1);
        if let Some(l) = &mut c.longhorn {
            l.node_disks[0].tags.push("ssd".into());
        }
        assert!(run(&DiskSelectorUnmatched, &c).is_empty());
    }
}
