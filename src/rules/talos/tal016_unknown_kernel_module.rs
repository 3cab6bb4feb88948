use super::tal011_v2_kernel_modules::UBLK;
use super::talos_version;
use crate::finding::{Finding, Severity};
use crate::knowledge::talos::{self as knowledge, ModuleBuild, ModuleStatus, TalosVersion};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL016",
    name: "unknown-kernel-module",
    layer: Layer::Talos,
    severity: Severity::Warning,
    summary: "A kernel module Talos cannot load (`iscsi_generic` does not exist in Linux).",
    docs: r#"## What
A `machine.kernel.modules` (or `KernelModuleConfig`) entry naming a module that the Talos
kernel cannot load: a name no Linux module has (`iscsi_generic`, copied from blog posts), or a
module that the target Talos version's kernel does not build (`ublk_drv` before v1.11.1,
`target_core_mod` before 1.14). With the V2 engine on, `ublk_drv` is reported by TAL011.

Longhorn's V1 engine needs no kernel-module entries at all: `iscsi_tcp`, `configfs`,
`dm_crypt` and `nfs` are built into the Talos kernel, and V1 has no NBD path. Those entries are
harmless no-ops, so this rule does not report them.

## Why
Talos does not validate module names. Its kernel-module controller fails with `module not
found` on every reconcile, filling the logs and hiding real errors; whatever the entry was
meant to enable never happens.

## Example
```yaml
machine:
  kernel:
    modules:
      - name: iscsi_generic
```

## Fix
Remove the entry. For Longhorn V1 remove every iSCSI/NBD module entry; for V2 keep
`nvme_tcp`, `vfio_pci`, `uio_pci_generic`.

## Source
torvalds/linux `drivers/scsi/Makefile` (no `iscsi_generic`); siderolabs/pkgs
`kernel/build/config-amd64` (release-1.10 … 1.14); siderolabs/talos
`kernel_module_spec.go`; talhorn research `talos-kernel-modules.md`.
"#,
};

pub struct UnknownKernelModule;

/// Why Talos `version` cannot load `name` (any version when unknown); `None` when it can or
/// talhorn does not know.
fn problem(name: &str, version: Option<&TalosVersion>) -> Option<String> {
    let status = match version {
        Some(v) => knowledge::kernel_module_status(name, v),
        None => match knowledge::find_kernel_module(name) {
            Some(m) if m.kconfig.is_none() => ModuleStatus::NoSuchModule,
            _ => ModuleStatus::Unknown,
        },
    };
    match (status, version) {
        (ModuleStatus::NoSuchModule, _) => {
            Some(format!("kernel module `{name}` does not exist in Linux"))
        }
        (ModuleStatus::Known(ModuleBuild::NotBuilt), Some(v)) => {
            Some(format!("the kernel of Talos {v} does not build `{name}`"))
        }
        _ => None,
    }
}

impl Rule for UnknownKernelModule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let version = talos_version(cluster);
        let v2 = cluster
            .longhorn
            .as_ref()
            .is_some_and(crate::model::Longhorn::v2);
        for module in cluster.talos.configs.iter().flat_map(|c| &c.kernel_modules) {
            if v2 && module.value.trim().replace('-', "_") == UBLK {
                continue;
            }
            if let Some(message) = problem(&module.value, version.as_ref()) {
                out.push(
                    META.finding(
                        module.at,
                        format!("{message}: Talos's kernel-module controller will fail with `module not found` on every reconcile"),
                    )
                    .help("remove the entry; Longhorn V1 needs no kernel modules on Talos"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Option<TalosVersion> {
        TalosVersion::parse(text).ok()
    }

    #[test]
    fn iscsi_generic_never_exists() {
        assert!(problem("iscsi_generic", None).is_some());
        assert!(problem("iscsi_generic", v("v1.11.6").as_ref()).is_some());
    }

    #[test]
    fn built_in_and_unknown_modules_are_not_reported() {
        assert_eq!(problem("iscsi_tcp", v("v1.11.6").as_ref()), None);
        assert_eq!(problem("nbd", v("v1.11.6").as_ref()), None);
        assert_eq!(problem("some_driver", v("v1.11.6").as_ref()), None);
    }

    #[test]
    fn ublk_is_built_from_1_11_1() {
        assert!(problem("ublk_drv", v("v1.11.0").as_ref()).is_some());
        assert_eq!(problem("ublk_drv", v("v1.11.1").as_ref()), None);
        assert_eq!(problem("ublk_drv", None), None);
    }
}
