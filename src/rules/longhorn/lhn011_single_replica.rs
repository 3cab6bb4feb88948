use super::{replica_counts, storage_node_count};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN011",
    name: "single-replica",
    layer: Layer::Longhorn,
    severity: Severity::Warning,
    summary: "One Longhorn replica while several storage nodes exist.",
    docs: r#"## What
`persistence.defaultClassReplicaCount` or `defaultSettings.defaultReplicaCount` is 1 while the
cluster has two or more Longhorn storage nodes. A StorageClass manifest named `longhorn` (the
chart's own class) stands for the first when the values leave it out; other Longhorn classes
are not judged: a `strict-local` class must have one replica, and a one-replica class for
volumes that are copies already (VolSync caches) is a choice.

## Why
With one replica a volume lives on exactly one node: rebooting that node for a Talos upgrade
takes the volume offline, and losing its disk loses the data. The other storage nodes could
hold a copy for free. One replica is only reasonable on a single-node cluster.

## Example
```yaml
persistence:
  defaultClassReplicaCount: 1
```
(with three workers)

## Fix
3 replicas with three or more storage nodes, otherwise 2 (both keys).

## Source
longhorn.io settings "Default Replica Count" ("if you have three or more nodes for storage,
use 3; otherwise use 2"); talhorn research `longhorn.md` §7.
"#,
};

pub struct SingleReplica;

impl Rule for SingleReplica {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(nodes) = storage_node_count(cluster).filter(|n| *n >= 2) else {
            return;
        };
        let suggested = if nodes >= 3 { 3 } else { 2 };
        for (key, count) in replica_counts(cluster)
            .into_iter()
            .filter(|(_, c)| c.value == 1)
        {
            out.push(
                META.finding(
                    count.at,
                    format!("`{key}: 1` keeps each volume on one of the {nodes} storage nodes: a reboot takes it offline, a lost disk loses it"),
                )
                .help(format!("set `{key}: {suggested}`")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, node, run};

    fn workers(n: usize, replicas: u32) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.default_replica_count = Some(fact(replicas, 10));
        c.longhorn = Some(l);
        for i in 0..n {
            c.talos
                .nodes
                .push(node(&format!("w-{i}"), Role::Worker, 20 + i));
        }
        c
    }

    #[test]
    fn one_replica_with_several_nodes_fires() {
        let found = run(&SingleReplica, &workers(3, 1));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(10));
    }

    #[test]
    fn a_single_node_or_more_replicas_is_silent() {
        assert!(run(&SingleReplica, &workers(1, 1)).is_empty());
        assert!(run(&SingleReplica, &workers(3, 2)).is_empty());
    }
}
