use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "NET003",
    name: "slow-storage-network",
    layer: Layer::Network,
    severity: Severity::Info,
    summary: "A network under 10 Gbps carries replicated Longhorn volumes.",
    docs: r#"## What
The intent's `network.speedGbps` is below 10 while Longhorn replicates volumes (a replica
count above 1; the chart's default StorageClass count is 3 when the values do not say).

## Why
Every write to a Longhorn V1 volume goes synchronously to every replica over the network.
Longhorn lists "10 Gbps network bandwidth between nodes" among its performance prerequisites:
at 1 Gbps a single volume's writes, and any replica rebuild, saturate the link that etcd and
pod traffic share.

## Example
```yaml
network:
  speedGbps: 1
longhorn:
  replicas: 3
```

## Fix
Use a 10 Gbps (or faster) storage network, ideally a dedicated one; or accept the limit and
lower the replica count for bulk data (`replicas: 2` is Longhorn's advice for data-intensive
applications).

## Source
Longhorn best practices (1.9–1.11) "Volumes Performance Optimization": "10 Gbps network
bandwidth between nodes"; Longhorn chart `values.yaml` `persistence.defaultClassReplicaCount: 3`.
"#,
};

/// Longhorn's chart default for `persistence.defaultClassReplicaCount` (1.8 to 1.12).
const CHART_DEFAULT_REPLICAS: u32 = 3;
const RECOMMENDED_GBPS: f64 = 10.0;

pub struct SlowStorageNetwork;

impl Rule for SlowStorageNetwork {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(speed) = cluster
            .network
            .speed_gbps
            .as_ref()
            .filter(|s| s.value < RECOMMENDED_GBPS)
        else {
            return;
        };
        let Some(longhorn) = &cluster.longhorn else {
            return;
        };
        let replicas = longhorn.replica_count();
        let count = replicas.map_or(CHART_DEFAULT_REPLICAS, |r| r.value);
        if count <= 1 {
            return;
        }
        let mut finding = META.finding(
            speed.at,
            format!(
                "the node network runs at {} Gbps while Longhorn writes every block to {count} replicas: Longhorn asks for 10 Gbps between nodes",
                speed.value
            ),
        );
        finding = match replicas {
            Some(r) => finding.related(r.at, format!("volumes get {count} replicas")),
            None => finding.related(
                longhorn.at,
                format!("Longhorn's default StorageClass gives volumes {count} replicas"),
            ),
        };
        out.push(finding.help(
            "use a 10 Gbps (ideally dedicated) storage network, or fewer replicas for bulk data",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Longhorn;
    use crate::rules::proxmox::testing::{cluster_of, fact, loc, run};

    fn findings_with(speed: Option<f64>, longhorn: bool, replicas: Option<u32>) -> Vec<Finding> {
        let mut cluster = cluster_of(Vec::new(), 1500);
        cluster.network.speed_gbps = speed.map(|s| fact(s, 700));
        cluster.longhorn = longhorn.then(|| {
            let mut l = Longhorn::new(loc(800));
            l.class_replica_count = replicas.map(|r| fact(r, 801));
            l
        });
        run(&SlowStorageNetwork, &cluster)
    }

    #[test]
    fn fires_under_10_gbps_with_replicas_including_the_chart_default() {
        let explicit = findings_with(Some(1.0), true, Some(2));
        assert_eq!(
            explicit
                .iter()
                .map(|f| (f.severity, f.at))
                .collect::<Vec<_>>(),
            [(Severity::Info, fact((), 700).at)]
        );
        assert_eq!(
            explicit[0].related.first().map(|r| r.at),
            Some(fact((), 801).at)
        );
        let default = findings_with(Some(2.5), true, None);
        assert_eq!(default[0].related.first().map(|r| r.at), Some(loc(800)));
    }

    #[test]
    fn silent_when_fast_unreplicated_unknown_or_without_longhorn() {
        assert!(findings_with(Some(10.0), true, Some(3)).is_empty());
        assert!(findings_with(Some(1.0), true, Some(1)).is_empty());
        assert!(findings_with(None, true, Some(3)).is_empty());
        assert!(findings_with(Some(1.0), false, None).is_empty());
    }
}
