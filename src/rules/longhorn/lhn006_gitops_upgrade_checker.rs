use crate::finding::{Finding, Severity};
use crate::model::{Cluster, GitOps};
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN006",
    name: "gitops-upgrade-checker",
    layer: Layer::Longhorn,
    severity: Severity::Warning,
    summary: "Longhorn deployed by Flux or Argo CD with `preUpgradeChecker.jobEnabled` not false.",
    docs: r#"## What
Longhorn is installed through Flux (`HelmRelease`) or Argo CD (`Application`), or the lint
context says so, and `preUpgradeChecker.jobEnabled` is not `false` (the chart default is
`true`). Silent without GitOps.

## Why
The pre-upgrade checker is a Helm `pre-upgrade` hook Job. Argo CD does not run Helm hooks the
same way (it renders the chart and applies it), so the Job runs at the wrong time or blocks the
sync; Flux may retry a failed hook forever. Longhorn's values file says to disable it "when
installing Longhorn using Argo CD or other GitOps solutions".

## Example
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
spec:
  values:
    preUpgradeChecker:
      jobEnabled: true
```

## Fix
```yaml
preUpgradeChecker:
  jobEnabled: false
```
Keep `upgradeVersionCheck` enabled (Longhorn recommends it).

## Source
longhorn/longhorn `chart/values.yaml` (`preUpgradeChecker`, 1.8.2 … 1.12.1); longhorn.io
"Install with Argo CD" (1.10.2); talhorn research `longhorn.md` §1.2, §2.
"#,
};

pub struct GitopsUpgradeChecker;

impl Rule for GitopsUpgradeChecker {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(longhorn) = cluster.longhorn.as_ref() else {
            return;
        };
        let tool = match longhorn.gitops.as_ref().map(|g| g.value) {
            Some(GitOps::Flux) => "Flux",
            Some(GitOps::Argocd) => "Argo CD",
            Some(GitOps::None) | None => return,
        };
        let finding = match &longhorn.pre_upgrade_job {
            Some(job) if !job.value => return,
            Some(job) => META.finding(
                job.at,
                format!("`preUpgradeChecker.jobEnabled: true` under {tool}: the pre-upgrade hook Job does not fit GitOps syncs"),
            ),
            None => META.finding(
                longhorn.at,
                format!("Longhorn is deployed by {tool} but `preUpgradeChecker.jobEnabled` is not set to false (the chart default is true)"),
            ),
        };
        out.push(finding.help("set `preUpgradeChecker.jobEnabled: false` in the Longhorn values"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::talos::testing::{at, cluster, fact, longhorn, run};

    fn deployed(gitops: Option<GitOps>, job: Option<bool>) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.gitops = gitops.map(|g| fact(g, 2));
        l.pre_upgrade_job = job.map(|j| fact(j, 7));
        c.longhorn = Some(l);
        c
    }

    #[test]
    fn fires_under_gitops_unless_disabled() {
        assert_eq!(
            run(&GitopsUpgradeChecker, &deployed(Some(GitOps::Flux), None))[0].at,
            at(900)
        );
        assert_eq!(
            run(
                &GitopsUpgradeChecker,
                &deployed(Some(GitOps::Argocd), Some(true))
            )[0]
            .at,
            at(7)
        );
        assert!(
            run(
                &GitopsUpgradeChecker,
                &deployed(Some(GitOps::Flux), Some(false))
            )
            .is_empty()
        );
    }

    #[test]
    fn silent_without_gitops() {
        assert!(
            run(
                &GitopsUpgradeChecker,
                &deployed(Some(GitOps::None), Some(true))
            )
            .is_empty()
        );
        assert!(run(&GitopsUpgradeChecker, &deployed(None, None)).is_empty());
    }
}
