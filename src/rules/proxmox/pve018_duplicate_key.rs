use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE018",
    name: "duplicate-key",
    layer: Layer::Proxmox,
    severity: Severity::Warning,
    summary: "A key twice in one qm.conf section: the last one silently wins.",
    docs: r#"## What
The same option twice in one section of a `qm.conf` (the main section, `[PENDING]`, a snapshot
or a special section). Reported by the `qm.conf` reader at the later occurrence — the one
Proxmox uses — with the first as a related location.

## Why
Proxmox does not check for duplicates: it reads the lines in order and the last assignment
wins. The first value looks authoritative when you read the file but has no effect, and the
next time Proxmox writes the config it silently removes it.

## Example
```
memory: 8192
cores: 4
memory: 4096
```
(the VM gets 4096 MiB)

## Fix
Delete one of the two lines, keeping the value you mean.

## Source
qemu-server `PVE::QemuServer::parse_vm_config` (no duplicate check; plain assignment).
"#,
};

pub struct DuplicateKey;

impl Rule for DuplicateKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        crate::rules::structure::load_findings_of(cluster, META.code, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::proxmox::testing::{cluster_of, loc, run};

    #[test]
    fn forwards_the_readers_findings_of_this_code_only() {
        let mut cluster = cluster_of(Vec::new(), 1500);
        cluster.load_findings = vec![
            Finding::new("PVE018", META.severity, loc(1), "ours"),
            Finding::new("PVE017", Severity::Error, loc(2), "another rule's"),
        ];
        let findings = run(&DuplicateKey, &cluster);
        assert_eq!(findings.iter().map(|f| f.at).collect::<Vec<_>>(), [loc(1)]);
    }
}
