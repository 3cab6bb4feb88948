use super::{push_unique, storage_groups, talos_version};
use crate::finding::{Finding, Severity};
use crate::knowledge::talos::{self as knowledge, ModuleBuild, ModuleStatus};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL011",
    name: "v2-kernel-modules",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "Longhorn's V2 engine without the `nvme_tcp`/`vfio_pci` kernel modules (`uio_pci_generic`: warning; `ublk_drv` before Talos 1.11.1).",
    docs: r#"## What
Longhorn's V2 data engine is enabled and the storage nodes' Talos config does not load:

- `nvme_tcp` or `vfio_pci` — error;
- `uio_pci_generic` — warning (Longhorn's `KernelModulesLoaded` condition checks it);
- or it loads `ublk_drv` on Talos before v1.11.1, whose kernel has no ublk support — error.

## Why
SPDK drives disks through `vfio_pci` (or `uio_pci_generic`) and exposes volumes over NVMe/TCP.
Talos loads only the modules listed in `machine.kernel.modules` (`KernelModuleConfig` on 1.14).
Without them the V2 instance manager cannot start. `nvme_tcp` is built into the Talos kernel, so
its entry is a harmless no-op that both Longhorn's and Talos's own recipes still list.

## Example
```yaml
machine:
  kernel:
    modules:
      - name: nvme_tcp
```

## Fix
```yaml
machine:
  kernel:
    modules:
      - name: nvme_tcp
      - name: vfio_pci
      - name: uio_pci_generic
```

## Source
longhorn.io "V2 Data Engine Prerequisites", "Talos Linux Support" (V2); longhorn-manager
`environment_check_monitor.go` (v1.10.2, `kernelModulesV2`); siderolabs/pkgs kernel config
(`CONFIG_BLK_DEV_UBLK` from Talos v1.11.1); talhorn research `talos-kernel-modules.md`.
"#,
};

pub struct V2KernelModules;

/// Modules V2 needs, with the severity of their absence.
const REQUIRED: &[(&str, Severity)] = &[
    ("nvme_tcp", Severity::Error),
    ("vfio_pci", Severity::Error),
    ("uio_pci_generic", Severity::Warning),
];

pub(super) const UBLK: &str = "ublk_drv";

/// `nvme-tcp` and `nvme_tcp` are the same module to modprobe.
pub(super) fn module_name(name: &str) -> String {
    name.trim().replace('-', "_")
}

/// Whether the known Talos version's kernel lacks `ublk_drv` (before v1.11.1).
fn ublk_missing(cluster: &Cluster) -> bool {
    talos_version(cluster).is_some_and(|v| {
        knowledge::kernel_module_status(UBLK, &v) == ModuleStatus::Known(ModuleBuild::NotBuilt)
    })
}

impl Rule for V2KernelModules {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = cluster.longhorn.as_ref().filter(|l| l.v2()) else {
            return;
        };
        let engine_at = longhorn.engine_v2.as_ref().map_or(longhorn.at, |f| f.at);
        for group in storage_groups(cluster) {
            let modules: Vec<_> = group
                .configs
                .iter()
                .flat_map(|c| &c.kernel_modules)
                .collect();
            let has = |name: &str| modules.iter().any(|m| module_name(&m.value) == name);
            for (name, severity) in REQUIRED {
                if has(name) {
                    continue;
                }
                let Some(at) = group.fix_location(|c| c.kernel_modules.first().map(|m| m.at))
                else {
                    continue;
                };
                push_unique(
                    out,
                    META.finding_at(
                        *severity,
                        at,
                        format!("Longhorn's V2 engine is on but {} do not load the `{name}` kernel module", group.label),
                    )
                    .related(engine_at, "the V2 engine is enabled here")
                    .help(format!("add `- name: {name}` to `machine.kernel.modules` (a `KernelModuleConfig` on Talos 1.14)")),
                );
            }
            if ublk_missing(cluster) {
                for module in modules.iter().filter(|m| module_name(&m.value) == UBLK) {
                    push_unique(
                        out,
                        META.finding(
                            module.at,
                            format!("`{UBLK}` does not exist before Talos v1.11.1 (the kernel has no ublk support); the UBLK frontend cannot work here"),
                        )
                        .help("upgrade Talos to v1.11.1 or later, or remove the module and use the NVMe/TCP frontend"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Role, Scope};
    use crate::rules::talos::testing::{cluster, config, fact, longhorn, run};

    fn v2_cluster(modules: &[&str], talos: &str) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.engine_v2 = Some(fact(true, 2));
        c.longhorn = Some(l);
        c.versions.talos = Some(fact(talos.into(), 1));
        let mut worker = config(Scope::Role(Role::Worker), 5);
        worker.kernel_modules = modules
            .iter()
            .enumerate()
            .map(|(i, m)| fact((*m).to_string(), 30 + i))
            .collect();
        c.talos.configs.push(worker);
        c
    }

    #[test]
    fn each_missing_module_has_its_severity() {
        let found = run(&V2KernelModules, &v2_cluster(&["nvme-tcp"], "v1.11.6"));
        let severities: Vec<Severity> = found.iter().map(|f| f.severity).collect();
        assert_eq!(severities, vec![Severity::Error, Severity::Warning]);
        assert!(found[0].message.contains("vfio_pci"));
    }

    #[test]
    fn the_full_set_is_silent_and_ublk_needs_1_11_1() {
        let all = ["nvme_tcp", "vfio_pci", "uio_pci_generic", "ublk_drv"];
        assert!(run(&V2KernelModules, &v2_cluster(&all, "v1.11.1")).is_empty());
        let found = run(&V2KernelModules, &v2_cluster(&all, "v1.11.0"));
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("ublk_drv"));
    }
}
