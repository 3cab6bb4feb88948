use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "INT002",
    name: "unknown-key",
    layer: Layer::Structure,
    severity: Severity::Error,
    summary: "A key the format does not have: intent, qm.conf option or sub-option, Talos field, Longhorn values key.",
    docs: r#"## What
A key that the format does not define: an intent key, a `qm.conf` option or property
sub-option, a Talos machine-config field for that Talos version, or a Longhorn Helm values key
for that chart version. The message suggests the closest valid key.

## Why
Each layer handles unknown keys differently, and none of them helps you:
- Proxmox warns and *drops* the option when it loads the config.
- `talosctl` rejects the document (`unknown keys found during decoding`).
- The Longhorn chart has no values schema, so Helm silently ignores the key. The classic:
  `numberOfReplicas` is not a values key at all.

## Example
```yaml
# Longhorn values
numberOfReplicas: 2
```

## Fix
Use the key the message suggests. For replicas, set `persistence.defaultClassReplicaCount`
(the default StorageClass) and `defaultSettings.defaultReplicaCount` (volumes created in the UI).

## Source
Longhorn chart `values.yaml` per version (no `values.schema.json`); Talos
`config.schema.json` and decoder `CheckUnknownKeys`; Proxmox `check_type`.
"#,
};

pub struct UnknownKey;

impl Rule for UnknownKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        super::load_findings_of(cluster, META.code, out);
    }
}
