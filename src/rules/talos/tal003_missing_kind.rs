use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::structure::load_findings_of;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL003",
    name: "missing-kind",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "A Talos document that is not the legacy one lacks `kind`/`apiVersion`, or the legacy one carries them.",
    docs: r#"## What
Every Talos machine-config document except the legacy `v1alpha1` one (recognised by a top-level
`machine`, `cluster`, `debug` or `persist` key) needs `apiVersion: v1alpha1` and `kind` (and
`name` for named kinds such as `UserVolumeConfig`). This rule fires on a document without them,
and on a legacy document that carries `apiVersion`/`kind`.

## Why
`talosctl` rejects the whole patch: `missing kind`, or from v1.12.6/v1.13 `missing apiVersion`.
A `UserVolumeConfig` with `apiVersion: v1alpha1` but no `kind` is read as the legacy document and
fails with `unknown keys found during decoding`. `version: v1alpha1` is not a marker.

## Example
```yaml
name: longhorn
provisioning:
  diskSelector:
    match: "!system_disk"
  maxSize: 200GiB
```

## Fix
Add `apiVersion: v1alpha1` and the `kind:` (here `kind: UserVolumeConfig`); remove
`apiVersion`/`kind` from a document that has `machine:` or `cluster:`.

## Source
siderolabs/talos `pkg/machinery/config/configloader/internal/decoder/decoder.go` (v1.11–v1.13,
`ErrMissingKind`); talhorn research `talos.md` §2.1.
"#,
};

/// Reported by the Talos document validator while the files are read.
pub struct MissingKind;

impl Rule for MissingKind {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        load_findings_of(cluster, META.code, out);
    }
}
