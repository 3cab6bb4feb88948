use crate::finding::{Finding, Severity};
use crate::knowledge::longhorn::{ChartVersion, v2_settings};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN009",
    name: "v2-experimental",
    layer: Layer::Longhorn,
    severity: Severity::Warning,
    summary: "Longhorn's V2 engine on a chart version that marks it experimental.",
    docs: r#"## What
`defaultSettings.v2DataEngine: true` (or `engine: v2` in the intent) on a Longhorn chart whose
values file calls the V2 data engine experimental: 1.8 through 1.11. From 1.12 the chart no
longer does.

## Why
Longhorn's own words: "experimental … should not be used in production". V2 volumes cannot be
live-upgraded (detach them before every Longhorn upgrade), each V2 instance manager pins a full
CPU core, and features lag behind V1.

## Example
```yaml
# chart 1.10.2
defaultSettings:
  v2DataEngine: true
```

## Fix
Use the V1 engine for production data, or upgrade to a chart that supports V2 (≥ 1.12) and
read its V2 prerequisites.

## Source
longhorn/longhorn `chart/values.yaml` (`v2DataEngine` comment, 1.8.2 … 1.12.1); longhorn.io
"V2 Data Engine" docs; talhorn research `longhorn.md` §3.
"#,
};

pub struct V2Experimental;

/// The engine memory passed to the settings lookup; only the `experimental` flag is read.
const ANY_MEMORY_MIB: u32 = 2048;

impl Rule for V2Experimental {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(engine) = cluster
            .longhorn
            .as_ref()
            .and_then(|l| l.engine_v2.as_ref())
            .filter(|f| f.value)
        else {
            return;
        };
        let Some(version) = cluster.versions.longhorn.as_ref() else {
            return;
        };
        let Ok(chart) = ChartVersion::parse(&version.value) else {
            return;
        };
        if v2_settings(&chart, ANY_MEMORY_MIB).is_some_and(|s| s.experimental) {
            out.push(
                META.finding(
                    engine.at,
                    format!("Longhorn chart {chart} marks the V2 data engine experimental: not for production data"),
                )
                .related(version.at, "the chart version")
                .help("keep production volumes on the V1 engine, or use a chart ≥ 1.12"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, run};

    fn v2_on(chart: &str) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.engine_v2 = Some(fact(true, 8));
        c.longhorn = Some(l);
        c.versions.longhorn = Some(fact(chart.into(), 1));
        c
    }

    #[test]
    fn experimental_before_1_12() {
        let found = run(&V2Experimental, &v2_on("1.10.2"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(8));
        assert!(run(&V2Experimental, &v2_on("1.12.1")).is_empty());
    }
}
