use super::{CHART_DEFAULT_REPLICAS, class_count_key};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN010",
    name: "replica-defaults-differ",
    layer: Layer::Longhorn,
    severity: Severity::Warning,
    summary: "The StorageClass and the UI default replica counts differ.",
    docs: r#"## What
`persistence.defaultClassReplicaCount` (the `longhorn` StorageClass, used by every PVC) and
`defaultSettings.defaultReplicaCount` (volumes created in the UI or API) differ. A count the
values leave out is the chart default, 3.

Only the chart's own class counts: a StorageClass manifest named `longhorn` stands for
`persistence.defaultClassReplicaCount` when the values leave it out. Other Longhorn classes
(a `strict-local` class, which must have one replica; a one-replica class for backups) are
their own and are not compared.

## Why
There is no `numberOfReplicas` Helm value; the two keys are easy to half-set. Volumes then get
different redundancy depending on how they were created, and a count lowered for a two-node
cluster still leaves UI-created volumes degraded.

## Example
```yaml
persistence:
  defaultClassReplicaCount: 2
```
(`defaultReplicaCount` stays 3)

## Fix
Set both to the same value:
```yaml
persistence:
  defaultClassReplicaCount: 2
defaultSettings:
  defaultReplicaCount: 2
```

## Source
longhorn/longhorn `chart/values.yaml` (both keys, and the comment pointing to the
StorageClass's `numberOfReplicas`), `chart/templates/storageclass.yaml`; talhorn research
`longhorn.md` §1.4.
"#,
};

pub struct ReplicaDefaultsDiffer;

impl Rule for ReplicaDefaultsDiffer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = cluster.longhorn.as_ref() else {
            return;
        };
        let (class, default) = (
            longhorn.class_replica_count.as_ref(),
            longhorn.default_replica_count.as_ref(),
        );
        let class_key = class_count_key(longhorn);
        let finding = match (class, default) {
            (Some(class), Some(default)) if class.value != default.value => META
                .finding(
                    default.at,
                    format!(
                        "`defaultReplicaCount: {}` differs from `{}: {}`: UI-created volumes and PVCs get different redundancy",
                        default.value,
                        class_key.rsplit('.').next().unwrap_or(class_key),
                        class.value
                    ),
                )
                .related(class.at, "the StorageClass count"),
            (Some(set), None) | (None, Some(set)) if set.value != CHART_DEFAULT_REPLICAS && longhorn.values.is_some() => {
                let (written, missing) = if class.is_some() {
                    (class_key, "defaultSettings.defaultReplicaCount")
                } else {
                    ("defaultSettings.defaultReplicaCount", "persistence.defaultClassReplicaCount")
                };
                META.finding(
                    set.at,
                    format!("`{written}: {}` but `{missing}` is left at the chart default of {CHART_DEFAULT_REPLICAS}", set.value),
                )
            }
            _ => return,
        };
        out.push(finding.help("set `persistence.defaultClassReplicaCount` and `defaultSettings.defaultReplicaCount` to the same value"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, run};
    use crate::yaml::{Node, Value};

    fn counts(class: Option<u32>, default: Option<u32>) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.values = Some(Node::new(
            Value::Map(Vec::new()),
            crate::source::Span::at(0),
        ));
        l.class_replica_count = class.map(|n| fact(n, 10));
        l.default_replica_count = default.map(|n| fact(n, 20));
        c.longhorn = Some(l);
        c
    }

    #[test]
    fn different_counts_fire_at_the_ui_default() {
        let found = run(&ReplicaDefaultsDiffer, &counts(Some(2), Some(3)));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(20));
    }

    #[test]
    fn one_count_against_the_chart_default() {
        assert_eq!(
            run(&ReplicaDefaultsDiffer, &counts(Some(2), None))[0].at,
            at(10)
        );
        assert!(run(&ReplicaDefaultsDiffer, &counts(Some(3), None)).is_empty());
    }

    #[test]
    fn equal_or_unset_counts_are_silent() {
        assert!(run(&ReplicaDefaultsDiffer, &counts(Some(2), Some(2))).is_empty());
        assert!(run(&ReplicaDefaultsDiffer, &counts(None, None)).is_empty());
    }
}
