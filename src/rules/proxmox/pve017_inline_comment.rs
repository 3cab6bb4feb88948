use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE017",
    name: "inline-comment",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "A `value # comment` in qm.conf: Proxmox has no inline comments; the text becomes part of the value.",
    docs: r#"## What
A `qm.conf` option line with a trailing comment, such as `cores: 4 # two per socket`. Reported
by the `qm.conf` reader, at the `#` and what follows it.

## Why
Proxmox only treats `#` at the start of a line specially (and even then keeps it as the VM's
description). Anywhere else the `#` and the rest of the line are part of the value:
`cores: 4 # two per socket` fails the integer check and Proxmox drops the whole option with a
warning, and `scsi0: …,size=32G # OS` breaks the drive string, so the disk disappears from the
VM.

## Example
```
scsihw: virtio-scsi-pci # recommended by Talos
```

## Fix
Move the comment to its own `#` line at the top of the file (it becomes part of the VM's notes),
or into your repository's documentation. In a GitOps repository, keep notes out of `qm.conf`.

## Source
qemu-server `PVE::QemuServer::parse_vm_config` (values are taken verbatim up to the end of the
line; `#` lines at column 0 become the description).
"#,
};

pub struct InlineComment;

impl Rule for InlineComment {
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
            Finding::new("PVE017", META.severity, loc(1), "ours"),
            Finding::new("PVE018", Severity::Error, loc(2), "another rule's"),
        ];
        let findings = run(&InlineComment, &cluster);
        assert_eq!(findings.iter().map(|f| f.at).collect::<Vec<_>>(), [loc(1)]);
    }
}
