//! `kubernetes/longhorn/`: the Namespace, the Helm values, and the Flux HelmRelease or Argo CD
//! Application that installs them.

use super::yaml_out::{documents, set_path};
use crate::intent::GitOps;
use crate::knowledge::longhorn::{self as lh, ChartVersion, HelmValue};
use crate::model::Longhorn;
use serde_json::{Value as Json, json};

pub const NAMESPACE: &str = "longhorn-system";
/// The Longhorn Helm repository (`helm repo add longhorn https://charts.longhorn.io`).
pub const CHART_REPOSITORY: &str = "https://charts.longhorn.io";

fn helm_json(value: &HelmValue) -> Json {
    match value {
        HelmValue::Bool(b) => json!(b),
        HelmValue::Int(i) => json!(i),
        HelmValue::Str(s) => json!(s),
    }
}

/// The Helm values: only keys that exist in this chart version's `values.yaml`.
pub fn values(longhorn: &Longhorn, chart: &ChartVersion) -> Json {
    let mut values = json!({});
    if let Some(keys) = lh::keys_for_replicas(chart)
        && let Some(count) = longhorn.replica_count()
    {
        set_path(&mut values, keys.storage_class, json!(count.value));
        set_path(&mut values, keys.default_setting, json!(count.value));
    }
    if let Some(path) = &longhorn.data_path {
        set_path(
            &mut values,
            "defaultSettings.defaultDataPath",
            json!(path.value),
        );
    }
    if longhorn
        .create_default_disk_labeled_nodes
        .as_ref()
        .is_some_and(|f| f.value)
    {
        set_path(
            &mut values,
            "defaultSettings.createDefaultDiskLabeledNodes",
            json!(true),
        );
    }
    if let Some(keys) = lh::backup_keys(chart)
        && let Some(target) = &longhorn.backup_target
    {
        set_path(&mut values, keys.target, json!(target.value));
        if let Some(secret) = &longhorn.backup_secret {
            set_path(&mut values, keys.credential_secret, json!(secret.value));
        }
    }
    if longhorn.v2() {
        let memory = longhorn.v2_memory_mib.as_ref().map_or(2048, |m| m.value);
        if let Some(v2) = lh::v2_settings(chart, u32::try_from(memory).unwrap_or(2048)) {
            for (key, value) in &v2.values {
                set_path(&mut values, key, helm_json(value));
            }
        }
    }
    if let Some(job) = &longhorn.pre_upgrade_job {
        set_path(
            &mut values,
            "preUpgradeChecker.jobEnabled",
            json!(job.value),
        );
    }
    values
}

pub fn namespace(longhorn: &Longhorn) -> Json {
    let labels: serde_json::Map<String, Json> = longhorn
        .namespace
        .iter()
        .flat_map(|ns| ns.labels.iter())
        .map(|(k, v)| (k.clone(), json!(v.value)))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": NAMESPACE, "labels": labels },
    })
}

fn helm_release(chart: &ChartVersion, values: Json) -> Vec<Json> {
    vec![
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": { "name": "longhorn", "namespace": NAMESPACE },
            "spec": { "interval": "24h", "url": CHART_REPOSITORY },
        }),
        json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": { "name": "longhorn", "namespace": NAMESPACE },
            "spec": {
                "interval": "1h",
                "chart": { "spec": {
                    "chart": "longhorn",
                    "version": chart.to_string(),
                    "sourceRef": { "kind": "HelmRepository", "name": "longhorn", "namespace": NAMESPACE },
                } },
                "install": { "crds": "CreateReplace" },
                "upgrade": { "crds": "CreateReplace" },
                "values": values,
            },
        }),
    ]
}

fn application(chart: &ChartVersion, values: Json) -> Json {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": { "name": "longhorn", "namespace": "argocd" },
        "spec": {
            "project": "default",
            "source": {
                "repoURL": CHART_REPOSITORY,
                "chart": "longhorn",
                "targetRevision": chart.to_string(),
                "helm": { "valuesObject": values },
            },
            "destination": { "server": "https://kubernetes.default.svc", "namespace": NAMESPACE },
            // Without a sync policy Argo CD only reports the drift and deploys nothing.
            "syncPolicy": { "automated": { "prune": true, "selfHeal": true } },
        },
    })
}

/// The files under `kubernetes/longhorn/`: (relative name, content).
pub fn files(
    longhorn: &Longhorn,
    chart: &ChartVersion,
    header: &str,
) -> Result<Vec<(String, String)>, String> {
    let values = values(longhorn, chart);
    let mut files = vec![
        (
            "namespace.yaml".to_string(),
            documents(header, &[namespace(longhorn)])?,
        ),
        (
            "values.yaml".to_string(),
            documents(header, std::slice::from_ref(&values))?,
        ),
    ];
    match longhorn.gitops.as_ref().map(|g| g.value) {
        Some(GitOps::Flux) => files.push((
            "helmrelease.yaml".into(),
            documents(header, &helm_release(chart, values))?,
        )),
        Some(GitOps::Argocd) => files.push((
            "application.yaml".into(),
            documents(header, &[application(chart, values)])?,
        )),
        Some(GitOps::None) | None => {}
    }
    Ok(files)
}
