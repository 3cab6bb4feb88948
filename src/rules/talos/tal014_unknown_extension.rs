use crate::finding::{Finding, Severity};
use crate::knowledge::talos::{self as knowledge, DIALECTS};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL014",
    name: "unknown-extension",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "A schematic extension name that does not exist for that Talos version.",
    docs: r#"## What
An `officialExtensions` entry that the official extensions release of the target Talos minor
does not ship: a typo (`siderolabs/iscsi-tool`), a missing `siderolabs/` prefix, or an
extension that arrived later or was removed (`siderolabs/nfs-utils` exists from 1.12 only).
Without a known Talos version, names that no supported version ships. A Talos version older
than the oldest talhorn knows the extensions of (1.9) is not judged.

## Why
The Image Factory accepts the schematic and hands out an ID, then fails when an image is
built: `official extension "…" is not available for Talos version …`. The ISO or installer
download fails, or worse, an upgrade cannot pull its installer.

## Example
```yaml
customization:
  systemExtensions:
    officialExtensions:
      - siderolabs/iscsi-tool
```

## Fix
Use the exact name from the extensions catalogue of that Talos version (the message suggests
the closest one).

## Source
siderolabs/image-factory `internal/profile/profile.go` (`findExtension`); siderolabs/extensions
`manifest.yaml` names per release branch; talhorn research `talos.md` §5.
"#,
};

pub struct UnknownExtension;

/// The minors the extension table covers.
fn known_minors() -> std::ops::RangeInclusive<u32> {
    let first = DIALECTS.first().map_or(0, |d| d.minor);
    let last = DIALECTS.last().map_or(0, |d| d.minor);
    first..=last
}

/// Why `name` cannot be used on Talos `1.<minor>` (any known minor when `None`). A minor older
/// than the table is not judged: extensions come and go (`siderolabs/i915-ucode` shipped up to
/// 1.8, before the table's first minor).
fn problem(name: &str, minor: Option<u32>) -> Option<String> {
    let minors = known_minors();
    if minor.is_some_and(|m| m < *minors.start()) {
        return None;
    }
    let Some(minor) = minor else {
        return minors
            .clone()
            .all(|m| !knowledge::extension_exists(name, m))
            .then(|| {
                format!(
                    "official extension `{name}` does not exist in any Talos release talhorn knows"
                )
            });
    };
    if knowledge::extension_exists(name, minor) {
        return None;
    }
    Some(match knowledge::find_extension(name) {
        Some(e) if e.first_minor > minor => {
            format!(
                "official extension `{name}` exists from Talos 1.{} on, not in 1.{minor}",
                e.first_minor
            )
        }
        Some(e) => format!(
            "official extension `{name}` was last shipped with Talos 1.{}, not 1.{minor}",
            e.last_minor
        ),
        None => format!("official extension `{name}` does not exist for Talos 1.{minor}"),
    })
}

impl Rule for UnknownExtension {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(schematic) = cluster.talos.schematic.as_ref() else {
            return;
        };
        let minor = cluster.talos_minor();
        let suggest_for = minor.unwrap_or(*known_minors().end());
        for extension in &schematic.extensions {
            let Some(message) = problem(&extension.value, minor) else {
                continue;
            };
            let mut finding = META.finding(
                extension.at,
                format!("{message}: the Image Factory will fail to build the image"),
            );
            if let Some(suggestion) = knowledge::suggest_extension(&extension.value, suggest_for) {
                finding = finding.help(format!("did you mean `{suggestion}`?"));
            }
            out.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_per_minor() {
        assert_eq!(problem("siderolabs/iscsi-tools", Some(11)), None);
        assert!(
            problem("siderolabs/nfs-utils", Some(11))
                .is_some_and(|m| m.contains("from Talos 1.12"))
        );
        assert_eq!(problem("siderolabs/nfs-utils", Some(12)), None);
        assert!(problem("siderolabs/iscsi-tool", Some(11)).is_some());
    }

    #[test]
    fn without_a_version_only_names_no_release_has_fire() {
        assert_eq!(problem("siderolabs/nfs-utils", None), None);
        assert!(problem("iscsi-tools", None).is_some());
    }

    /// `siderolabs/i915-ucode` shipped up to Talos 1.8, older than the table: a 1.7 schematic
    /// with it builds (it was taken for a name no release has).
    #[test]
    fn a_version_older_than_the_table_is_not_judged() {
        assert_eq!(problem("siderolabs/i915-ucode", Some(7)), None);
        assert!(problem("siderolabs/i915-ucode", Some(13)).is_some());
    }
}
