use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "INT003",
    name: "invalid-value",
    layer: Layer::Structure,
    severity: Severity::Error,
    summary: "A value of the wrong type, enum, range or format.",
    docs: r#"## What
A value the format does not accept: the wrong type, a value outside an enum or range, or a
malformed string (`scsihw: virtio-single`, `discard=yes`, a replica count of 0, an address
that is not an IPv4 address, two nodes with the same VMID).

In a Talos document, what Talos's decoder accepts is not reported: a number or boolean in a
string field (it reads the text as written: `rotate-server-certificates: true` is `"true"`),
and any mapping holding `$patch: delete` (it is taken out before the types are checked; in a
talhelper file `$$patch`, which talhelper's envsubst turns into `$patch`).

## Why
Proxmox drops an invalid option on load (an invalid drive string makes the *disk* vanish),
`talosctl` rejects the document, and Longhorn's manager skips an invalid default setting with
only a log line.

## Example
```
scsihw: virtio-single
scsi0: local-lvm:vm-101-disk-1,discard=yes
```

## Fix
Use one of the values the message lists (`scsihw: virtio-scsi-single`, `discard=on`).

## Source
Proxmox `qm.conf` option reference (pve-docs `qm.conf.5-opts.adoc`); Talos
`config.schema.json`; Longhorn manager `types/setting.go` value ranges.
"#,
};

pub struct InvalidValue;

impl Rule for InvalidValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        super::load_findings_of(cluster, META.code, out);
    }
}
