use super::{push_unique, storage_groups};
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL010",
    name: "v2-hugepages",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "Longhorn's V2 engine without enough 2 MiB hugepages on the storage nodes.",
    docs: r#"## What
Longhorn's V2 data engine is enabled, and the storage nodes' Talos config sets no
`vm.nr_hugepages` sysctl, or sets fewer pages than the engine's memory size needs
(`pages × 2 MiB ≥ dataEngineMemorySize`, default 2048 MiB = 1024 pages). Silent when
hugepages are disabled for V2 (`dataEngineHugepageEnabled: {"v2":"false"}`, chart ≥ 1.10).

## Why
SPDK, the V2 engine, allocates its memory from hugepages. Longhorn's node condition
`HugePagesAvailable` turns false, no V2 instance manager starts, and V2 volumes never attach.

## Example
```yaml
machine:
  sysctls:
    vm.nr_hugepages: "512"
```

## Fix
`vm.nr_hugepages: "1024"` in `machine.sysctls` (a `SysctlConfig` document on Talos 1.14), or
more if `dataEngineMemorySize` is raised; restart the kubelet (or reboot) after changing it.

## Source
longhorn.io "V2 Data Engine Prerequisites" (1024 × 2 MiB pages); longhorn-manager
`checkHugePages` (v1.10.2); longhorn.io "Talos Linux Support" (V2 section); talhorn research
`longhorn.md` §3.
"#,
};

pub struct V2Hugepages;

const HUGEPAGES_SYSCTL: &str = "vm.nr_hugepages";
/// The V2 engine's default memory (`data-engine-memory-size` / `v2-data-engine-hugepage-limit`).
const DEFAULT_V2_MEMORY_MIB: u64 = 2048;
const HUGEPAGE_MIB: u64 = 2;

impl Rule for V2Hugepages {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = cluster
            .longhorn
            .as_ref()
            .filter(|l| l.v2() && !l.v2_hugepages_disabled)
        else {
            return;
        };
        let memory_mib = longhorn
            .v2_memory_mib
            .as_ref()
            .map_or(DEFAULT_V2_MEMORY_MIB, |m| m.value);
        let pages_needed = memory_mib.div_ceil(HUGEPAGE_MIB);
        for group in storage_groups(cluster) {
            let setting = group
                .configs
                .iter()
                .rev()
                .find_map(|c| c.sysctl(HUGEPAGES_SYSCTL));
            let finding = match setting {
                None => {
                    let Some(at) = group.fix_location(|c| c.sysctls.first().map(|(_, f)| f.at)) else {
                        continue;
                    };
                    META.finding(
                        at,
                        format!("Longhorn's V2 engine is on but {} set no `{HUGEPAGES_SYSCTL}`: it needs {pages_needed} pages of 2 MiB ({memory_mib} MiB)", group.label),
                    )
                }
                Some(pages) => match pages.value.trim().parse::<u64>() {
                    Ok(count) if count >= pages_needed => continue,
                    Ok(count) => META.finding(
                        pages.at,
                        format!(
                            "`{HUGEPAGES_SYSCTL}: {count}` gives {} MiB of hugepages, less than the {memory_mib} MiB Longhorn's V2 engine needs",
                            count * HUGEPAGE_MIB
                        ),
                    ),
                    Err(_) => continue,
                },
            };
            let finding = finding
                .related(engine_at(longhorn), "the V2 engine is enabled here")
                .help(format!("set `{HUGEPAGES_SYSCTL}: \"{pages_needed}\"` in `machine.sysctls` (a `SysctlConfig` on Talos 1.14)"));
            push_unique(out, finding);
        }
    }
}

fn engine_at(longhorn: &crate::model::Longhorn) -> crate::source::Location {
    longhorn.engine_v2.as_ref().map_or(longhorn.at, |f| f.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Role, Scope};
    use crate::rules::talos::testing::{at, cluster, config, fact, longhorn, run};

    fn v2_cluster(pages: Option<&str>) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.engine_v2 = Some(fact(true, 2));
        c.longhorn = Some(l);
        let mut worker = config(Scope::Role(Role::Worker), 5);
        if let Some(p) = pages {
            worker
                .sysctls
                .push((HUGEPAGES_SYSCTL.into(), fact(p.into(), 30)));
        }
        c.talos.configs.push(worker);
        c
    }

    #[test]
    fn too_few_pages_fire_at_the_sysctl() {
        let found = run(&V2Hugepages, &v2_cluster(Some("512")));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(30));
        assert!(
            found[0].message.contains("1024 MiB"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn missing_pages_fire_at_the_patch() {
        let found = run(&V2Hugepages, &v2_cluster(None));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(5));
    }

    #[test]
    fn enough_pages_v1_or_disabled_hugepages_are_silent() {
        assert!(run(&V2Hugepages, &v2_cluster(Some("1024"))).is_empty());
        let mut c = v2_cluster(None);
        if let Some(l) = c.longhorn.as_mut() {
            l.v2_hugepages_disabled = true;
        }
        assert!(run(&V2Hugepages, &c).is_empty());
        let mut c = v2_cluster(None);
        if let Some(l) = c.longhorn.as_mut() {
            l.engine_v2 = None;
        }
        assert!(run(&V2Hugepages, &c).is_empty());
    }

    #[test]
    fn a_larger_engine_memory_needs_more_pages() {
        let mut c = v2_cluster(Some("1024"));
        if let Some(l) = c.longhorn.as_mut() {
            l.v2_memory_mib = Some(fact(4096, 3));
        }
        assert_eq!(run(&V2Hugepages, &c).len(), 1);
    }
}
