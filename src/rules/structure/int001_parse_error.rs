use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "INT001",
    name: "parse-error",
    layer: Layer::Structure,
    severity: Severity::Error,
    summary: "A file that cannot be parsed (YAML syntax, qm.conf line syntax).",
    docs: r#"## What
A file that talhorn recognises (an intent, a Talos config or patch, Longhorn values, a
manifest, a `qm.conf`, `storage.cfg` or `interfaces` file) cannot be parsed. The finding points
at the position where parsing stopped.

A YAML file is also read under limits, so that a hostile or broken file cannot make talhorn
run out of memory or stack: at most 8 MiB, 1,000 documents, 128 levels of nesting, 1,000
aliases and 250,000 values (an alias counts each time it repeats what it names: the
"billion laughs" file). Past a limit the finding says which, in the file's terms, and what to
change.

## Why
Tools downstream reject it too: `talosctl` refuses a patch that is not valid YAML, Helm fails to
render, and Proxmox *skips* a `qm.conf` line it cannot parse (`unable to parse config`), so a
setting silently disappears.

## Example
```yaml
machine:
  kubelet:
    extraMounts: [
```

## Fix
Correct the syntax at the reported position. In `qm.conf`, every line is `key: value`, a `#`
description line, or a `[section]` header.

## Source
Proxmox `PVE::QemuServer::parse_vm_config` (qemu-server); YAML 1.2.
"#,
};

pub struct ParseError;

impl Rule for ParseError {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        super::load_findings_of(cluster, META.code, out);
    }
}
