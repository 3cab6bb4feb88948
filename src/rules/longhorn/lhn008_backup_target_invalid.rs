use crate::finding::{Finding, Severity};
use crate::knowledge::longhorn::{BackupTargetProblem, check_backup_target};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN008",
    name: "backup-target-invalid",
    layer: Layer::Longhorn,
    severity: Severity::Error,
    summary: "A Longhorn backup target with a bad scheme or path, no credential secret, or no trailing `/` or region.",
    docs: r#"## What
The backup target URL or its credential secret is wrong:

- **error**: a scheme other than `s3`, `nfs`, `cifs`, `azblob`; `,` in the path (or `$`
  outside CIFS); no bucket before `@`; an `s3`, `cifs` or `azblob` target without
  `backupTargetCredentialSecret`;
- **warning**: an S3 target without `@region`, or an S3/Azure target without the trailing `/`.

## Why
Longhorn validates the target only when it first uses it: the backup target shows an error in
the UI and every scheduled backup fails, usually noticed when a restore is needed.

## Example
```yaml
defaultBackupStore:
  backupTarget: s3://backups/longhorn
```

## Fix
`s3://<bucket>@<region>/<path>/` with `backupTargetCredentialSecret` naming a Secret in
`longhorn-system` (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_ENDPOINTS`).

## Source
longhorn.io "Setting a Backup Target" (1.10.2: "Make sure that you have `/` at the end");
longhorn-manager `datastore/longhorn.go` `checkBackupTargetURLFormat`,
`backup_target_controller.go` (credential secret); talhorn research `longhorn.md` §6.
"#,
};

pub struct BackupTargetInvalid;

impl Rule for BackupTargetInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = cluster.longhorn.as_ref() else {
            return;
        };
        // `${VAR}` is filled in later (Flux post-build substitution, envsubst): unknown here.
        let Some(target) = longhorn
            .backup_target
            .as_ref()
            .filter(|t| !t.value.contains("${"))
        else {
            return;
        };
        let secret = longhorn.backup_secret.as_ref();
        for problem in check_backup_target(&target.value, secret.map(|s| s.value.as_str())) {
            let mut finding = META.finding_at(
                problem.severity(),
                target.at,
                format!("`{}`: {}", target.value, problem.message()),
            );
            if let (BackupTargetProblem::MissingCredentialSecret(_), Some(secret)) =
                (&problem, secret)
            {
                finding = finding.related(secret.at, "the credential secret is empty");
            }
            out.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, run};

    fn target(url: &str, secret: Option<&str>) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.backup_target = Some(fact(url.into(), 4));
        l.backup_secret = secret.map(|s| fact(s.into(), 6));
        c.longhorn = Some(l);
        c
    }

    #[test]
    fn a_substitution_variable_is_not_checked() {
        assert!(run(&BackupTargetInvalid, &target("${NFS_BACKUP_TARGET}", None)).is_empty());
    }

    #[test]
    fn severities_follow_the_problem() {
        let found = run(&BackupTargetInvalid, &target("s3://backups/longhorn", None));
        let mut severities: Vec<Severity> = found.iter().map(|f| f.severity).collect();
        severities.sort();
        assert_eq!(
            severities,
            vec![Severity::Warning, Severity::Warning, Severity::Error]
        );
        assert!(found.iter().all(|f| f.at == at(4)));
        assert_eq!(
            run(&BackupTargetInvalid, &target("ftp://x/", Some("s")))[0].severity,
            Severity::Error
        );
    }

    #[test]
    fn a_valid_target_is_silent() {
        assert!(
            run(
                &BackupTargetInvalid,
                &target("s3://backups@us-east-1/longhorn/", Some("s3-creds"))
            )
            .is_empty()
        );
        assert!(run(&BackupTargetInvalid, &target("nfs://nas:/backups", None)).is_empty());
    }
}
