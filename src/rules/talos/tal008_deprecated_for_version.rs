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
`machine.install.extraKernelArgs` on ≥ 1.12; `machine.kernel`, `machine.sysctls`,
`machine.kubelet`, `machine.install`, `machine.nodeLabels`, `machine.nodeAnnotations`,
`machine.nodeTaints` and `cluster.allowSchedulingOnControlPlanes` on 1.14. Warning when Talos
only deprecates it; error where Talos rejects it. A deprecated field that sets nothing (`null`,
`{}`, `[]`) is only reported where Talos rejects it: `talosctl gen config` itself writes
`registries: {}` into every v1.12+ worker config.

## Why
Deprecated fields keep working until they don't: on 1.12 a generated config already has a
`HostnameConfig`, so `machine.network.hostname` fails with `static hostname is already set in
v1alpha1 config`; `install.extraKernelArgs` fails with `grubUseUKICmdline`; on 1.14 a
`machine.kubelet` patch conflicts with the generated `KubeletConfig`, and any `machine.install`
conflicts with the generated `UnattendedInstallConfig` (`UnattendedInstallConfig config is
incompatible with v1alpha1 config (.machine.install)`), and node labels, annotations, taints and
`allowSchedulingOnControlPlanes` conflict with the generated `KubeNodeConfig`
(`.cluster.allowSchedulingOnControlPlanes is already set in v1alpha1 config`). The JSON schema omits these
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
`KernelModuleConfig`/`SysctlConfig` on 1.14, and on 1.14 the `UnattendedInstallConfig` document
for the install disk and image:

```yaml
apiVersion: v1alpha1
kind: UnattendedInstallConfig
installer:
  image: factory.talos.dev/nocloud-installer/<schematic-id>:v1.14.0-rc.1
provisioning:
  diskSelector:
    match: disk.dev_path == "/dev/sda"
```

On 1.14, node labels go into a `KubeNodeConfig` document, and workloads are allowed on control
planes by deleting the taint that gen config puts there:

```yaml
apiVersion: v1alpha1
kind: KubeNodeConfig
taints:
  node-role.kubernetes.io/control-plane:
    $patch: delete
```

`shared/research/talos.md` §3.1 says v1.14's gen config still writes `machine.install.image`;
Talos's code says otherwise and wins: at v1.14.0-rc.1 `generate/init.go` leaves
`machine.install` out for the 1.14 contract and writes an `UnattendedInstallConfig` (talosctl's
default `--install-disk /dev/sda`), so `machine.install` in a patch is an error there, not a
note.

## Source
siderolabs/talos `v1alpha1_types.go` deprecation markers (v1.10–v1.14), `network/hostname.go`,
`k8s/kubelet.go`, `k8s/node.go` (v1.14; checked with the v1.14.1 machinery), `generate/init.go` and `runtime/unattended_install.go`
(v1.14.0-rc.1); talhorn research `talos.md` §3.3.
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
