use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::talos::{CREATE_DEFAULT_DISK_LABEL, has_create_default_disk_label};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::{Fact, Location};
use crate::yaml::Node;

pub static META: RuleMeta = RuleMeta {
    code: "LHN004",
    name: "labeled-nodes-missing",
    layer: Layer::Longhorn,
    severity: Severity::Error,
    summary: "`createDefaultDiskLabeledNodes` is on but no node carries the create-default-disk label.",
    docs: r#"## What
`defaultSettings.createDefaultDiskLabeledNodes: true`, and none of the Talos nodes in the
repository (per-node patches, or `machine.nodeLabels` in a role patch) is labelled
`node.longhorn.io/create-default-disk` with `true` or `config`. Also fires on a label value
other than `true`/`config`, which Longhorn ignores. Silent when no Talos node config is known.

## Why
With the setting on, Longhorn creates a default disk only on labelled nodes. No label means
no disk anywhere: every volume fails to schedule with "no available disk".

## Example
```yaml
defaultSettings:
  createDefaultDiskLabeledNodes: true
```
(and no node has the label)

## Fix
Label the storage nodes in Talos:
```yaml
machine:
  nodeLabels:
    node.longhorn.io/create-default-disk: "true"
```
or turn the setting off.

## Source
longhorn.io "Configure Defaults for Nodes and Disks" (1.10.2); longhorn-manager
`kubernetes_node_controller.go` (label values `true`/`config`); talhorn research `longhorn.md` §4.
"#,
};

pub struct LabeledNodesMissing;

/// `machine.nodeLabels` entries of the create-default-disk label in a Talos document.
fn node_label_values(doc: &Node) -> Vec<(&Node, &Node)> {
    doc.path(&["machine", "nodeLabels"])
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter(|(k, _)| k.as_str() == Some(CREATE_DEFAULT_DISK_LABEL))
        .map(|(k, v)| (k, v))
        .collect()
}

fn acts_on(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "true" | "config")
}

impl Rule for LabeledNodesMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(setting) = cluster
            .longhorn
            .as_ref()
            .and_then(|l| l.create_default_disk_labeled_nodes.as_ref())
            .filter(|f| f.value)
        else {
            return;
        };
        let mut values: Vec<Fact<String>> = cluster
            .talos
            .nodes
            .iter()
            .flat_map(|n| &n.labels)
            .filter(|(k, _)| k == CREATE_DEFAULT_DISK_LABEL)
            .map(|(_, v)| v.clone())
            .collect();
        for config in &cluster.talos.configs {
            let Some(file) = config.file else { continue };
            for doc in &config.documents {
                for (_, value) in node_label_values(doc) {
                    if let Some(text) = value.scalar_text() {
                        values.push(Fact::new(text, Location::new(file, value.span)));
                    }
                }
            }
        }
        for bad in values.iter().filter(|v| !acts_on(&v.value)) {
            out.push(
                META.finding(
                    bad.at,
                    format!("`{CREATE_DEFAULT_DISK_LABEL}: {}` is ignored by Longhorn: the value must be `true` or `config`", bad.value),
                )
                .help("use `\"true\"` (default disk at the data path) or `config` (disks from the node annotation)"),
            );
        }
        let nodes_known = !cluster.talos.nodes.is_empty() || !values.is_empty();
        let labelled = cluster
            .talos
            .nodes
            .iter()
            .any(has_create_default_disk_label)
            || values.iter().any(|v| acts_on(&v.value));
        if nodes_known && !labelled {
            out.push(
                META.finding(
                    setting.at,
                    format!("`createDefaultDiskLabeledNodes: true` but no node is labelled `{CREATE_DEFAULT_DISK_LABEL}`: Longhorn will create no disks"),
                )
                .help(format!("add `{CREATE_DEFAULT_DISK_LABEL}: \"true\"` to `machine.nodeLabels` of the storage nodes")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, node, run};

    fn labelled(value: Option<&str>) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.create_default_disk_labeled_nodes = Some(fact(true, 3));
        c.longhorn = Some(l);
        let mut n = node("w-1", Role::Worker, 20);
        if let Some(v) = value {
            n.labels
                .push((CREATE_DEFAULT_DISK_LABEL.into(), fact(v.into(), 25)));
        }
        c.talos.nodes.push(n);
        c
    }

    #[test]
    fn no_label_fires_at_the_setting() {
        let found = run(&LabeledNodesMissing, &labelled(None));
        assert_eq!(found.iter().map(|f| f.at).collect::<Vec<_>>(), vec![at(3)]);
    }

    #[test]
    fn a_bad_value_fires_at_the_label_and_counts_as_unlabelled() {
        let found = run(&LabeledNodesMissing, &labelled(Some("yes")));
        assert_eq!(
            found.iter().map(|f| f.at).collect::<Vec<_>>(),
            vec![at(25), at(3)]
        );
    }

    #[test]
    fn a_labelled_node_is_silent() {
        assert!(run(&LabeledNodesMissing, &labelled(Some("true"))).is_empty());
        assert!(run(&LabeledNodesMissing, &labelled(Some("Config"))).is_empty());
    }
}
