use super::{CHART_DEFAULT_REPLICAS, replica_counts, storage_node_count};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN002",
    name: "replicas-exceed-nodes",
    layer: Layer::Longhorn,
    severity: Severity::Error,
    summary: "More Longhorn replicas than storage nodes.",
    docs: r#"## What
`persistence.defaultClassReplicaCount` or `defaultSettings.defaultReplicaCount` (both default
to 3 when the values leave them out), or the `numberOfReplicas` of another Longhorn StorageClass
of the repository, is larger than the number of Longhorn storage nodes (the workers, plus
control planes when `allowSchedulingOnControlPlanes` is on, or the labelled nodes under
`createDefaultDiskLabeledNodes`). Error with the default hard node anti-affinity; warning when
`replicaSoftAntiAffinity` is on (replicas may then share a node).

A StorageClass manifest named `longhorn` is the chart's own class and stands for
`persistence.defaultClassReplicaCount` when the values leave it out; a class of any other name
is judged by its own count, never taken for the chart's.

## Why
With replica node anti-affinity (the default) Longhorn never puts two replicas of a volume on
one node. The extra replicas cannot be scheduled: every volume stays `Degraded` forever, and
losing one node loses redundancy you thought you had.

## Example
```yaml
persistence:
  defaultClassReplicaCount: 3   # with two workers
```

## Fix
Set both counts to the number of storage nodes or fewer (3 with three or more storage nodes,
otherwise 2), or add storage nodes.

## Source
longhorn.io settings "Default Replica Count", "Replica Node Level Soft Anti-Affinity";
scheduling docs (1.10.2); talhorn research `longhorn.md` §7.
"#,
};

pub struct ReplicasExceedNodes;

impl Rule for ReplicasExceedNodes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = cluster.longhorn.as_ref() else {
            return;
        };
        let Some(nodes) = storage_node_count(cluster).filter(|n| *n > 0) else {
            return;
        };
        let soft = longhorn
            .replica_soft_anti_affinity
            .as_ref()
            .is_some_and(|f| f.value);
        let (severity, consequence) = if soft {
            (
                Severity::Warning,
                "with soft anti-affinity, replicas share nodes and a node failure can take several copies",
            )
        } else {
            (
                Severity::Error,
                "the extra replicas can never be scheduled and every volume stays degraded",
            )
        };
        let mut counts: Vec<(String, crate::source::Location, u32)> = replica_counts(cluster)
            .into_iter()
            .map(|(key, count)| (format!("`{key}: {}`", count.value), count.at, count.value))
            .collect();
        if counts.is_empty() && longhorn.values.is_some() {
            counts.push((
                format!("the chart default of {CHART_DEFAULT_REPLICAS} replicas"),
                longhorn.at,
                CHART_DEFAULT_REPLICAS,
            ));
        }
        // Other classes hold volumes of their own; the chart's class is the count above.
        counts.extend(
            longhorn
                .classes
                .iter()
                .filter(|class| !class.is_chart_class())
                .filter_map(|class| {
                    let replicas = class.replicas.as_ref()?;
                    let what = format!(
                        "`numberOfReplicas: {}` of StorageClass `{}`",
                        replicas.value, class.name
                    );
                    Some((what, replicas.at, replicas.value))
                }),
        );
        for (what, at, count) in counts {
            if count as usize > nodes {
                out.push(
                    META.finding_at(
                        severity,
                        at,
                        format!(
                            "{what} exceeds the {nodes} Longhorn storage node(s): {consequence}"
                        ),
                    )
                    .help(format!(
                        "set the replica count to {nodes} or fewer, or add storage nodes"
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, node, run};

    fn two_workers(replicas: u32, soft: bool) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.class_replica_count = Some(fact(replicas, 10));
        if soft {
            l.replica_soft_anti_affinity = Some(fact(true, 11));
        }
        c.longhorn = Some(l);
        c.talos.nodes.push(node("cp-1", Role::Controlplane, 20));
        c.talos.nodes.push(node("w-1", Role::Worker, 21));
        c.talos.nodes.push(node("w-2", Role::Worker, 22));
        c
    }

    #[test]
    fn three_replicas_on_two_workers_is_an_error_or_a_warning_when_soft() {
        let found = run(&ReplicasExceedNodes, &two_workers(3, false));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(10));
        assert_eq!(found[0].severity, Severity::Error);
        let found = run(&ReplicasExceedNodes, &two_workers(3, true));
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn one_count_for_both_keys_is_reported_once() {
        let mut c = two_workers(3, false);
        if let Some(l) = c.longhorn.as_mut() {
            l.default_replica_count = l.class_replica_count.clone();
        }
        let found = run(&ReplicasExceedNodes, &c);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.starts_with("`replicas: 3`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn another_class_is_judged_by_its_own_count() {
        let mut c = two_workers(2, false);
        if let Some(l) = c.longhorn.as_mut() {
            l.classes.push(crate::model::longhorn::StorageClass {
                name: "longhorn-ssd".into(),
                at: at(30),
                replicas: Some(fact(3, 31)),
                disk_selector: None,
                node_selector: None,
            });
        }
        let found = run(&ReplicasExceedNodes, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(31));
        assert!(
            found[0].message.contains("StorageClass `longhorn-ssd`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn as_many_replicas_as_workers_is_silent() {
        assert!(run(&ReplicasExceedNodes, &two_workers(2, false)).is_empty());
    }
}
