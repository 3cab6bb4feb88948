use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::structure::load_findings_of;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "LHN005",
    name: "key-moved",
    layer: Layer::Longhorn,
    severity: Severity::Error,
    summary: "A Longhorn values key valid in another chart version but ignored in this one.",
    docs: r#"## What
A Helm values key that the target chart version does not read, although another version does:

- `defaultSettings.backupTarget`, `backupTargetCredentialSecret`, `backupstorePollInterval` on
  chart ≥ 1.8 (moved to `defaultBackupStore.*`), and the reverse before 1.8 (the only keys
  checked on a chart that old, which talhorn has no key table for);
- the six `v2DataEngine*` keys on ≥ 1.10 (`v2DataEngineHugepageLimit` → `dataEngineMemorySize`,
  `v2DataEngineGuaranteedInstanceManagerCPU` → `guaranteedInstanceManagerCPU` in *percent*,
  `v2DataEngineCPUMask` → `dataEngineCPUMask`, the log keys, the snapshot-integrity key), and
  the new names on ≤ 1.9;
- `dataEngineInterruptModeEnabled` on 1.10 (exposed from 1.11);
- JSON or map values for settings on 1.8/1.9, which have no per-engine settings.

## Why
The chart has no values schema: Helm renders without complaint and the setting silently keeps
its default. A backup target that was "configured" never is; V2 runs with default hugepages.

## Example
```yaml
# chart 1.10.2
defaultSettings:
  backupTarget: s3://backups@us-east-1/longhorn/
```

## Fix
Use the key of that chart version (the message names it):
```yaml
defaultBackupStore:
  backupTarget: s3://backups@us-east-1/longhorn/
  backupTargetCredentialSecret: s3-creds
```

## Source
longhorn/longhorn `chart/values.yaml` and `chart/templates/default-setting.yaml`,
`default-resource.yaml` (1.7.3 … 1.12.1); longhorn-manager `types/setting.go`
(`replacedSettingNames`, v1.10.2); talhorn research `longhorn.md` §1.2, §1.3, §9.2.
"#,
};

/// Reported by the Longhorn values validator, which knows each chart version's keys.
pub struct KeyMoved;

impl Rule for KeyMoved {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        load_findings_of(cluster, META.code, out);
    }
}
