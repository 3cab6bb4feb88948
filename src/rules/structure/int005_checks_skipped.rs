use crate::finding::{Finding, Severity};
use crate::knowledge::longhorn::{ChartVersion, Support};
use crate::knowledge::talos_schema;
use crate::model::Cluster;
use crate::rules::network::guest_mtu::{ETHERNET_DEFAULT_MTU, bridge_of, guest_mtu};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;

pub static META: RuleMeta = RuleMeta {
    code: "INT005",
    name: "checks-skipped",
    layer: Layer::Structure,
    severity: Severity::Info,
    summary: "Version-dependent checks were skipped because no Talos, Longhorn or Proxmox version is known, or the Talos version or Longhorn chart is older than talhorn's tables.",
    docs: r#"## What
A cluster has Talos configs but no Talos version (or one it cannot read, such as a talhelper
`talosVersion: ${TALOS_VERSION}` that no plain `talenv.yaml` fills in, or one talhorn has no
config schema of: before 1.9), Longhorn values but no
chart version, or VirtIO
NICs without `mtu=` on a jumbo-frame bridge but no Proxmox version, so the checks that depend
on the version did not run. One finding per cluster names the skipped
checks and how to give the version.

A second finding, at the chart version, when the Longhorn chart is older than 1.8 (the oldest
chart talhorn has a key table for): its values keys and values are not checked (INT002, INT003,
LHN009; LHN005 only for the `defaultBackupStore` keys, which arrived in 1.8). The settings
talhorn reads are still read from the values, by name (`defaultSettings.defaultDataPath`,
`defaultReplicaCount`, `createDefaultDiskLabeledNodes`, `replicaSoftAntiAffinity`,
`backupTarget`, ...), and checked by the rules that use them.

## Why
Which keys a Talos document or a Longhorn values file may hold depends on the version: a key
valid in Talos 1.9 is rejected by 1.12, and Helm silently ignores a Longhorn value the chart
version does not have. Without a version these checks cannot run, and a clean report would
claim more than was checked.

## Example
A repository with `talos/worker.yaml` whose `machine.install.image` has no version tag, and no
`.talhorn.yaml`.

## Fix
For a chart older than 1.8: upgrade Longhorn, one minor line at a time, to a maintained one.
Otherwise give the version in `.talhorn.yaml` at the cluster's root:
```yaml
context:
  talos: v1.11.6
  longhorn: 1.10.2
  proxmox: 9
```
or pin it in the files: a tagged installer image (`factory.talos.dev/installer/<id>:v1.11.6`),
the chart version of the Longhorn `HelmRelease` or `Application`.

## Source
talhorn's own reporting ("never silent"); version tables in `data/talos/*.json` and
`data/longhorn/`; longhorn.io "Upgrade" (one minor line at a time), talhorn research
`longhorn.md` §8.
"#,
};

pub struct ChecksSkipped;

impl Rule for ChecksSkipped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let mut skipped: Vec<String> = Vec::new();
        let mut hints = Vec::new();
        let mut at: Option<Location> = None;
        let talos_file = cluster.talos.configs.iter().find(|c| c.file.is_some());
        if let (Some(config), None) = (talos_file, cluster.talos_minor()) {
            let checks = "the Talos document checks for your version (INT002, INT003, TAL008)";
            skipped.push(match &cluster.versions.talos {
                None => checks.to_owned(),
                // A talhelper `talosVersion: ${TALOS_VERSION}` that talenv.yaml fills in.
                Some(version) => format!(
                    "{checks}, whose Talos version `{}` is no version talhorn can read",
                    version.value
                ),
            });
            hints.push("`context.talos` (e.g. `v1.11.6`) or a tagged `machine.install.image`");
            at = Some(config.origin);
        }
        let values = cluster.longhorn.as_ref().filter(|l| l.values.is_some());
        if let (Some(longhorn), None) = (values, &cluster.versions.longhorn) {
            skipped.push(
                "the Longhorn values checks for the chart version (INT002, INT003, LHN005, LHN009)"
                    .to_owned(),
            );
            hints.push(
                "`context.longhorn` (e.g. `1.10.2`) or the chart version of the HelmRelease or Application",
            );
            at = at.or(Some(longhorn.at));
        }
        if let (Some(nic_at), None) = (nic_needing_pve_version(cluster), &cluster.versions.proxmox)
        {
            skipped.push("the MTU check of VirtIO NICs without `mtu=` (NET001: PVE 8 gives them 1500, PVE 9 their bridge's MTU)".to_owned());
            hints.push("`context.proxmox` (8 or 9)");
            at = at.or(Some(nic_at));
        }
        old_longhorn_chart(cluster, out);
        talos_without_schema(cluster, out);
        let Some(at) = at else { return };
        out.push(
            META.finding(
                at,
                format!(
                    "skipped because no version is known: {}",
                    skipped.join("; ")
                ),
            )
            .help(format!(
                "give the version in `.talhorn.yaml` at the cluster's root: {}",
                hints.join("; ")
            )),
        );
    }
}

/// A Longhorn chart older than the key tables: what is not checked, and what still is.
fn old_longhorn_chart(cluster: &Cluster, out: &mut Vec<Finding>) {
    let (Some(_), Some(version)) = (
        cluster.longhorn.as_ref().and_then(|l| l.values.as_ref()),
        &cluster.versions.longhorn,
    ) else {
        return;
    };
    let Ok(chart) = ChartVersion::parse(&version.value) else {
        return;
    };
    if chart.support() != Support::TooOld {
        return;
    }
    out.push(
        META.finding(
            version.at,
            format!(
                "Longhorn chart {chart} is older than the charts talhorn has key tables for (1.8 and newer): its values keys and values are not checked (INT002, INT003, LHN009; LHN005 only for `defaultBackupStore.*`), only read for the settings other rules check (`defaultSettings.defaultDataPath`, `defaultReplicaCount`, `backupTarget`, ...)"
            ),
        )
        .help("upgrade Longhorn one minor line at a time to a maintained line (1.8 and newer are checked in full)"),
    );
}

/// A Talos version talhorn has no schema table for (older than 1.9, or newer than it knows):
/// its documents are not checked, and that is said.
fn talos_without_schema(cluster: &Cluster, out: &mut Vec<Finding>) {
    let has_documents = cluster.talos.configs.iter().any(|c| c.file.is_some());
    let (true, Some(minor), Some(version)) = (
        has_documents,
        cluster.talos_minor(),
        &cluster.versions.talos,
    ) else {
        return;
    };
    if talos_schema::has_schema(minor) {
        return;
    }
    let mut minors = talos_schema::schema_minors();
    let (Some(first), Some(last)) = (minors.next(), minors.last()) else {
        return;
    };
    out.push(META.finding(
        version.at,
        format!(
            "Talos {} is outside the versions talhorn has the config schema of (v1.{first} to v1.{last}): its documents are not checked (INT002, INT003, TAL008)",
            version.value
        ),
    ));
}

/// A VirtIO NIC without `mtu=` on a bridge whose MTU is not 1500, whose guest MTU nothing else
/// decides (no Talos link MTU): only the Proxmox version tells what the guest gets.
fn nic_needing_pve_version(cluster: &Cluster) -> Option<Location> {
    cluster.vms.iter().find_map(|vm| {
        vm.nics
            .iter()
            .find(|nic| {
                nic.model.value == "virtio"
                    && nic.mtu.is_none()
                    && bridge_of(cluster, nic)
                        .and_then(|b| b.mtu.as_ref())
                        .is_some_and(|mtu| mtu.value != ETHERNET_DEFAULT_MTU)
                    && guest_mtu(cluster, vm, nic).is_none()
            })
            .map(|nic| nic.at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Longhorn, Scope, TalosConfig};
    use crate::source::{Fact, FileId, Span};

    fn talos_cluster() -> Cluster {
        let mut cluster = Cluster::default();
        let origin = Location::new(FileId(0), Span::at(0));
        let mut config = TalosConfig::new(Scope::All, origin);
        config.file = Some(FileId(0));
        cluster.talos.configs.push(config);
        cluster
    }

    fn run(cluster: &Cluster) -> Vec<Finding> {
        let mut out = Vec::new();
        ChecksSkipped.check(cluster, &mut out);
        out
    }

    #[test]
    fn one_finding_names_every_skipped_group() {
        let mut cluster = talos_cluster();
        let mut longhorn = Longhorn::new(Location::new(FileId(1), Span::at(0)));
        longhorn.values = crate::yaml::parse_document("defaultSettings: {}\n").ok();
        cluster.longhorn = Some(longhorn);
        let findings = run(&cluster);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("Talos"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[0].message.contains("Longhorn"),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].at.file, FileId(0));
    }

    #[test]
    fn a_chart_older_than_the_tables_says_what_is_not_checked() {
        let at = Location::new(FileId(1), Span::at(7));
        let mut longhorn = Longhorn::new(Location::new(FileId(1), Span::at(0)));
        longhorn.values = crate::yaml::parse_document("defaultSettings: {}\n").ok();
        let mut cluster = Cluster {
            longhorn: Some(longhorn),
            ..Cluster::default()
        };
        cluster.versions.longhorn = Some(Fact::new("1.6.2".into(), at));
        let findings = run(&cluster);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].at, at);
        assert!(
            findings[0].message.contains("chart 1.6.2 is older"),
            "{}",
            findings[0].message
        );
        cluster.versions.longhorn = Some(Fact::new("1.8.0".into(), at));
        assert!(run(&cluster).is_empty());
    }

    #[test]
    fn silent_when_versions_are_known_or_nothing_depends_on_them() {
        assert!(run(&Cluster::default()).is_empty());
        let mut cluster = talos_cluster();
        let at = Location::new(FileId(0), Span::at(0));
        cluster.versions.talos = Some(Fact::new("v1.11.6".into(), at));
        assert!(run(&cluster).is_empty());
    }

    /// A Talos version older than the schema tables skips the document checks: say so (it was
    /// silent).
    #[test]
    fn a_talos_version_without_a_schema_is_said() {
        let mut cluster = talos_cluster();
        let at = Location::new(FileId(0), Span::at(0));
        cluster.versions.talos = Some(Fact::new("v1.8.3".into(), at));
        let findings = run(&cluster);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .message
                .starts_with("Talos v1.8.3 is outside the versions talhorn has the config schema of (v1.9 to v1.14)"),
            "{}",
            findings[0].message
        );
        cluster.versions.talos = Some(Fact::new("v1.11.6".into(), at));
        assert!(run(&cluster).is_empty());
    }

    /// A version that is a variable skips the checks as surely as no version: say so (it used
    /// to be taken for a known version, and the checks were skipped without a word).
    #[test]
    fn a_talos_version_talhorn_cannot_read_is_said() {
        let mut cluster = talos_cluster();
        let at = Location::new(FileId(0), Span::at(0));
        cluster.versions.talos = Some(Fact::new("${TALOS_VERSION}".into(), at));
        let findings = run(&cluster);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .message
                .contains("whose Talos version `${TALOS_VERSION}` is no version talhorn can read"),
            "{}",
            findings[0].message
        );
    }
}
