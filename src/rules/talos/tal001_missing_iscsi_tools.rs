use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;

pub static META: RuleMeta = RuleMeta {
    code: "TAL001",
    name: "missing-iscsi-tools",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "Longhorn is in the cluster but the Talos schematic lacks `siderolabs/iscsi-tools`.",
    docs: r#"## What
The cluster runs Longhorn, and the Image Factory schematic the nodes are installed from does not
list the `siderolabs/iscsi-tools` system extension.

## Why
Longhorn's V1 engine attaches every volume through iSCSI: `iscsid` and `iscsiadm` must run on
the node. Talos has no package manager; the only way to get them is the extension, baked into
the installer image. Without it every volume attach fails and pods stay in `ContainerCreating`.

## Example
```yaml
customization:
  systemExtensions:
    officialExtensions:
      - siderolabs/qemu-guest-agent
```

## Fix
Add `siderolabs/iscsi-tools` (and `siderolabs/util-linux-tools`) to `officialExtensions`, then
install or upgrade the nodes with the factory installer of the new schematic ID.

## Source
longhorn.io "Talos Linux Support" (1.10.2 … 1.13.0): required extensions; siderolabs/extensions
`storage/iscsi-tools`; talhorn research `talos.md` §5, §6.
"#,
};

pub struct MissingIscsiTools;

pub const ISCSI_TOOLS: &str = "siderolabs/iscsi-tools";

/// Where a required extension belongs when Longhorn is present and the schematic lacks it.
pub(super) fn missing_extension_at(cluster: &Cluster, extension: &str) -> Option<Location> {
    cluster.longhorn.as_ref()?;
    let schematic = cluster.talos.schematic.as_ref()?;
    if schematic.has_extension(extension) {
        return None;
    }
    Some(schematic.extensions.first().map_or(schematic.at, |e| e.at))
}

impl Rule for MissingIscsiTools {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        if let Some(at) = missing_extension_at(cluster, ISCSI_TOOLS) {
            out.push(
                META.finding(
                    at,
                    format!("the schematic lacks `{ISCSI_TOOLS}`, which Longhorn needs to attach volumes over iSCSI"),
                )
                .help(format!(
                    "add `{ISCSI_TOOLS}` to `customization.systemExtensions.officialExtensions` and reinstall with the new schematic's installer"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::talos::SchematicFacts;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, run};

    fn schematic(extensions: &[&str]) -> SchematicFacts {
        SchematicFacts {
            file: None,
            at: at(1),
            extensions: extensions
                .iter()
                .enumerate()
                .map(|(i, e)| fact((*e).to_string(), 10 + i))
                .collect(),
            kernel_args: Vec::new(),
            id_as_written: None,
            id_sorted: None,
        }
    }

    #[test]
    fn fires_at_the_extension_list_when_longhorn_needs_it() {
        let mut c = cluster();
        c.longhorn = Some(longhorn());
        c.talos.schematic = Some(schematic(&["siderolabs/qemu-guest-agent"]));
        let found = run(&MissingIscsiTools, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(10));
    }

    #[test]
    fn silent_with_the_extension_or_without_longhorn_or_schematic() {
        let mut c = cluster();
        c.talos.schematic = Some(schematic(&[]));
        assert!(run(&MissingIscsiTools, &c).is_empty(), "no Longhorn");
        c.longhorn = Some(longhorn());
        c.talos.schematic = Some(schematic(&[ISCSI_TOOLS]));
        assert!(run(&MissingIscsiTools, &c).is_empty(), "extension present");
        c.talos.schematic = None;
        assert!(run(&MissingIscsiTools, &c).is_empty(), "schematic unknown");
    }
}
