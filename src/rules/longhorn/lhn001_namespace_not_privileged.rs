use crate::finding::{Finding, Severity};
use crate::knowledge::talos_schema;
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};
use crate::yaml::Node;

pub static META: RuleMeta = RuleMeta {
    code: "LHN001",
    name: "namespace-not-privileged",
    layer: Layer::Longhorn,
    severity: Severity::Error,
    summary: "`longhorn-system` lacks `pod-security.kubernetes.io/enforce: privileged`.",
    docs: r#"## What
The `longhorn-system` Namespace manifest has no `pod-security.kubernetes.io/enforce` label, or
one other than `privileged`, and no Talos control-plane patch exempts the namespace from the
`PodSecurity` admission plugin or deletes Talos's admission configuration
(`cluster.apiServer.admissionControl: {$patch: delete}`, or a JSON patch that removes
`/cluster/apiServer/admissionControl`, as the cluster template's control-plane patches do:
Kubernetes then enforces `privileged`). Silent when the repository holds no
Namespace manifest.

## Why
Talos enables Pod Security admission with `enforce: baseline` for every namespace except
`kube-system`. Longhorn's manager, CSI plugin and instance managers are privileged pods with
host mounts: under `baseline` the DaemonSets are created but their pods are rejected, and no
volume can ever attach. The chart does not create the namespace.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: longhorn-system
```

## Fix
```yaml
metadata:
  name: longhorn-system
  labels:
    pod-security.kubernetes.io/enforce: privileged
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/audit: privileged
    pod-security.kubernetes.io/warn: privileged
```

## Source
longhorn.io "Talos Linux Support" ("Pod Security"); Longhorn 1.7.0 important notes (labels);
Talos `base-controlplane.yaml` (default `PodSecurity` admission config); talhorn research
`longhorn.md` §2, `talos.md` §3.2.
"#,
};

pub struct NamespaceNotPrivileged;

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
const NAMESPACE: &str = "longhorn-system";

/// Whether a Talos document exempts `longhorn-system` from the `PodSecurity` admission plugin
/// (`cluster.apiServer.admissionControl[name=PodSecurity].configuration.exemptions.namespaces`),
/// or deletes Talos's admission configuration altogether (`admissionControl: {$patch: delete}`,
/// the cluster template's control-plane patch): Kubernetes then enforces `privileged`.
fn exempts_longhorn(doc: &Node) -> bool {
    let Some(admission) = doc.path(&["cluster", "apiServer", "admissionControl"]) else {
        return false;
    };
    if talos_schema::is_delete_directive(admission) {
        return true;
    }
    let Some(plugins) = admission.as_seq() else {
        return false;
    };
    plugins
        .iter()
        .filter(|p| p.get("name").and_then(Node::as_str) == Some("PodSecurity"))
        .filter_map(|p| {
            p.path(&["configuration", "exemptions", "namespaces"])?
                .as_seq()
        })
        .flatten()
        .any(|ns| ns.as_str() == Some(NAMESPACE))
}

impl Rule for NamespaceNotPrivileged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let Some(namespace) = cluster.longhorn.as_ref().and_then(|l| l.namespace.as_ref()) else {
            return;
        };
        if cluster
            .talos
            .configs
            .iter()
            .flat_map(|c| &c.documents)
            .any(exempts_longhorn)
        {
            return;
        }
        let finding = match namespace.label(ENFORCE) {
            Some(level) if level.value == "privileged" => return,
            Some(level) => META.finding(
                level.at,
                format!("`{ENFORCE}: {}` rejects Longhorn's privileged pods; Longhorn needs `privileged`", level.value),
            ),
            None => META.finding(
                namespace.labels_at,
                format!("namespace `{NAMESPACE}` has no `{ENFORCE}` label: Talos enforces `baseline`, which rejects Longhorn's privileged pods"),
            ),
        };
        out.push(finding.help(format!("label the namespace `{ENFORCE}: privileged`")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;
    use crate::model::longhorn::Namespace;
    use crate::rules::talos::testing::{at, cluster, config, fact, longhorn, run};

    fn with_labels(labels: &[(&str, &str)]) -> Cluster {
        let mut c = cluster();
        let mut l = longhorn();
        l.namespace = Some(Namespace {
            file: None,
            at: at(1),
            labels: labels
                .iter()
                .enumerate()
                .map(|(i, (k, v))| ((*k).to_string(), fact((*v).to_string(), 10 + i)))
                .collect(),
            labels_at: at(5),
        });
        c.longhorn = Some(l);
        c
    }

    #[test]
    fn baseline_fires_at_the_label_and_a_missing_label_at_labels() {
        let found = run(
            &NamespaceNotPrivileged,
            &with_labels(&[(ENFORCE, "baseline")]),
        );
        assert_eq!(found.iter().map(|f| f.at).collect::<Vec<_>>(), vec![at(10)]);
        let found = run(
            &NamespaceNotPrivileged,
            &with_labels(&[("app", "longhorn")]),
        );
        assert_eq!(found.iter().map(|f| f.at).collect::<Vec<_>>(), vec![at(5)]);
    }

    #[test]
    fn privileged_or_a_talos_exemption_is_silent() {
        assert!(
            run(
                &NamespaceNotPrivileged,
                &with_labels(&[(ENFORCE, "privileged")])
            )
            .is_empty()
        );
        let mut c = with_labels(&[]);
        let mut cp = config(Scope::All, 0);
        cp.documents = crate::yaml::parse_documents(
            "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          exemptions:\n            namespaces: [longhorn-system]\n",
        )
        .unwrap_or_default();
        c.talos.configs.push(cp);
        assert!(run(&NamespaceNotPrivileged, &c).is_empty());
    }

    /// The cluster template's control-plane patch deletes Talos's admission configuration
    /// (`baseline` with it): Longhorn's pods are admitted.
    #[test]
    fn a_patch_deleting_the_admission_configuration_is_silent() {
        let with_patch = |patch: &str| {
            let mut c = with_labels(&[]);
            let mut cp = config(Scope::All, 0);
            cp.documents = crate::yaml::parse_documents(patch).unwrap_or_default();
            c.talos.configs.push(cp);
            run(&NamespaceNotPrivileged, &c).len()
        };
        let deleted = "cluster:\n  allowSchedulingOnControlPlanes: true\n  apiServer:\n    admissionControl:\n      $patch: delete\n";
        assert_eq!(with_patch(deleted), 0);
        let replaced = "cluster:\n  apiServer:\n    admissionControl:\n      $patch: replace\n";
        assert_eq!(with_patch(replaced), 1);
    }
}
