use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::structure::load_findings_of;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL008",
    name: "deprecated-for-version",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "A machine-config field deprecated for the target Talos version (error where Talos rejects it).",
    docs: r#"## What
A field that the target Talos version's config schema no longer lists, but that Talos still
accepts (or rejects only in combination with the documents that replace it):
`machine.disks` and `machine.install.extensions` on ≥ 1.10; `machine.network.*` and
`machine.install.extraKernelArgs` on ≥ 1.12; `machine.kernel`, `machine.sysctls` and
`machine.kubelet` on 1.14. Warning when Talos only deprecates it; error where Talos rejects it.

## Why
Deprecated fields keep working until they don't: on 1.12 a generated config already has a
`HostnameConfig`, so `machine.network.hostname` fails with `static hostname is already set in
v1alpha1 config`; `install.extraKernelArgs` fails with `grubUseUKICmdline`; on 1.14 a
`machine.kubelet` patch conflicts with the generated `KubeletConfig`. The JSON schema omits these
fields, so they are not unknown keys (INT002): they are version drift.

## Example
```yaml
# Talos v1.12
machine:
  network:
    hostname: w-1
```

## Fix
Use the replacement document: `UserVolumeConfig` for `machine.disks`, the schematic for
extensions and kernel arguments, `HostnameConfig`/`LinkConfig`/`ResolverConfig` for the network,
`KernelModuleConfig`/`SysctlConfig` on 1.14.

## Source
siderolabs/talos `v1alpha1_types.go` deprecation markers (v1.10–v1.14), `network/hostname.go`,
`k8s/kubelet.go` (v1.14); talhorn research `talos.md` §3.3.
"#,
};

/// Reported by the Talos document validator, which knows each version's schema.
pub struct DeprecatedForVersion;

impl Rule for DeprecatedForVersion {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        load_findings_of(cluster, META.code, out);
    }
}
