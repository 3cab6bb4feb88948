use super::tal001_missing_iscsi_tools::missing_extension_at;
use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL002",
    name: "missing-util-linux-tools",
    layer: Layer::Talos,
    severity: Severity::Warning,
    summary: "Longhorn is in the cluster but the Talos schematic lacks `siderolabs/util-linux-tools`.",
    docs: r#"## What
The cluster runs Longhorn, and the Image Factory schematic does not list the
`siderolabs/util-linux-tools` system extension.

## Why
Longhorn runs `fstrim` (and other util-linux tools) on the host to trim volumes. Talos ships
none of them; without the extension, volume trimming fails and space freed inside a volume is
never returned to the thin-provisioned disk. Volumes still attach, hence a warning.

## Example
```yaml
customization:
  systemExtensions:
    officialExtensions:
      - siderolabs/iscsi-tools
```

## Fix
Add `siderolabs/util-linux-tools` to `officialExtensions` and upgrade the nodes with the new
schematic's installer.

## Source
longhorn.io "Talos Linux Support" ("the `fstrim` binary is used for Longhorn volume trimming");
siderolabs/extensions `tools/util-linux`; talhorn research `talos.md` §5.
"#,
};

pub struct MissingUtilLinuxTools;

const UTIL_LINUX_TOOLS: &str = "siderolabs/util-linux-tools";

impl Rule for MissingUtilLinuxTools {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        if let Some(at) = missing_extension_at(cluster, UTIL_LINUX_TOOLS) {
            out.push(
                META.finding(
                    at,
                    format!("the schematic lacks `{UTIL_LINUX_TOOLS}`: Longhorn cannot trim volumes (no `fstrim` on the host)"),
                )
                .help(format!("add `{UTIL_LINUX_TOOLS}` to `customization.systemExtensions.officialExtensions`")),
            );
        }
    }
}
