use crate::finding::{Finding, Severity};
use crate::knowledge::longhorn::{ChartVersion, backup_keys};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN007",
    name: "no-backup-target",
    layer: Layer::Longhorn,
    severity: Severity::Info,
    summary: "Longhorn has no backup target.",
    docs: r#"## What
The Longhorn values (or the intent) set no backup target (`defaultBackupStore.backupTarget`
on chart ≥ 1.8, `defaultSettings.backupTarget` before), and no `BackupTarget` or `Setting`
resource of the repository does (a `kind: List` of them included). Silent when Longhorn is
only known from its Namespace manifest.

## Why
Replicas protect against a node failure, not against deleting a volume, a bad upgrade or losing
the Proxmox host that runs every VM. Longhorn snapshots live beside the replicas. Only a backup
target (S3, NFS, CIFS, Azure Blob) gets the data off the cluster.

## Example
```yaml
persistence:
  defaultClassReplicaCount: 3
```

## Fix
```yaml
defaultBackupStore:
  backupTarget: s3://<bucket>@<region>/longhorn/
  backupTargetCredentialSecret: <secret in longhorn-system>
```
and a recurring backup job.

## Source
longhorn.io "Setting a Backup Target" (1.10.2); talhorn research `longhorn.md` §6.
"#,
};

pub struct NoBackupTarget;

impl Rule for NoBackupTarget {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = cluster.longhorn.as_ref() else {
            return;
        };
        // Ingestion places a Longhorn known only from its Namespace manifest at that manifest.
        let only_namespace = longhorn.values.is_none()
            && longhorn.values_file.is_none()
            && longhorn
                .namespace
                .as_ref()
                .is_some_and(|ns| ns.file.is_some() && ns.at == longhorn.at);
        if only_namespace || longhorn.backup_target.is_some() {
            return;
        }
        // The key of the chart in use, when its version is known.
        let chart = cluster
            .versions
            .longhorn
            .as_ref()
            .and_then(|v| ChartVersion::parse(&v.value).ok());
        let help = match chart.as_ref().and_then(backup_keys) {
            Some(keys) => format!("set `{}` and its credential secret", keys.target),
            None => "set `defaultBackupStore.backupTarget` (chart ≥ 1.8; `defaultSettings.backupTarget` before) and its credential secret".to_owned(),
        };
        out.push(
            META.finding(longhorn.at, "Longhorn has no backup target: replicas do not survive deleting a volume or losing the host")
                .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, run};

    #[test]
    fn fires_at_the_install_without_a_target() {
        let mut c = cluster();
        c.longhorn = Some(longhorn());
        let found = run(&NoBackupTarget, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(900));
        assert_eq!(found[0].severity, Severity::Info);
    }

    #[test]
    fn a_namespace_alone_says_nothing_about_backups() {
        let mut c = cluster();
        let mut l = longhorn();
        l.namespace = Some(crate::model::longhorn::Namespace {
            file: Some(crate::source::FileId(0)),
            at: l.at,
            labels: Vec::new(),
            labels_at: l.at,
        });
        c.longhorn = Some(l);
        assert!(run(&NoBackupTarget, &c).is_empty());
    }

    #[test]
    fn an_intent_without_backup_fires() {
        let mut c = cluster();
        let mut l = longhorn();
        // Lowering gives the intent's Longhorn a namespace at the same place, but no file.
        l.namespace = Some(crate::model::longhorn::Namespace {
            file: None,
            at: l.at,
            labels: Vec::new(),
            labels_at: l.at,
        });
        c.longhorn = Some(l);
        assert_eq!(run(&NoBackupTarget, &c).len(), 1);
    }

    #[test]
    fn a_target_is_silent() {
        let mut c = cluster();
        let mut l = longhorn();
        l.backup_target = Some(fact("nfs://nas:/backups".into(), 5));
        c.longhorn = Some(l);
        assert!(run(&NoBackupTarget, &c).is_empty());
    }
}
