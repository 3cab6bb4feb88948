//! Rule documentation generated from the registry: `talhorn explain`, `talhorn rules`, and
//! `docs/rules.md` (a test fails when that file is stale).

use super::{RuleMeta, all_meta};

/// `talhorn explain CODE`: the rule's documentation as markdown.
pub fn explain(meta: &RuleMeta) -> String {
    format!(
        "# {} {}\n\nLayer: {} · Default severity: {}\n\n{}\n\n{}",
        meta.code,
        meta.name,
        meta.layer.as_str(),
        meta.severity,
        meta.summary,
        meta.docs.trim_end()
    ) + "\n"
}

/// `talhorn rules --format table`.
pub fn table() -> String {
    let metas = all_meta();
    let mut out = String::new();
    for m in metas {
        out.push_str(&format!(
            "{:<7} {:<8} {:<28} {}\n",
            m.code,
            m.severity.as_str(),
            m.name,
            m.summary
        ));
    }
    out
}

/// `talhorn rules --format json`.
pub fn json() -> String {
    let rules: Vec<serde_json::Value> = all_meta()
        .iter()
        .map(|m| {
            serde_json::json!({
                "code": m.code,
                "name": m.name,
                "layer": m.layer.as_str(),
                "severity": m.severity.as_str(),
                "summary": m.summary,
            })
        })
        .collect();
    serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"
}

/// Every file format `talhorn lint` reads, with an example in `fixtures/formats/` (linted
/// clean by `tests/formats.rs`). Rules run on the facts, whichever format gave them.
const FORMATS: &str = "## Files read

| format | recognised by | facts | example |
|---|---|---|---|
| talhorn intent | `cluster:` + `nodes:` + `proxmox:` | everything | [examples/](../examples) |
| Proxmox `qm.conf` | `*.conf` with VM keys, or under `qemu-server/` | VM | |
| `storage.cfg`, `interfaces` | file name | storages, bridges | |
| Talos machine config / patch | `machine:`/`cluster:` or a Talos `kind`; a JSON patch (a list of `op`/`path` on `/machine/…` or `/cluster/…`) | Talos node (with its labels and annotations) and config; of a JSON patch, the paths it removes | |
| Image Factory schematic | `customization:` | schematic | |
| Longhorn / Cilium Helm values | their top-level keys, or `values*.yaml` in a `longhorn/`, `cilium/` folder | Longhorn (with the default class's `persistence.defaultDiskSelector` / `defaultNodeSelector`), CNI | |
| Flux `HelmRelease` | `spec.chart.spec.chart`, or `spec.chartRef` to an `OCIRepository` / `HelmChart` (its tag is the chart version); `valuesFrom` a ConfigMap / Secret of the repository | Longhorn values | [longhorn.yaml](../fixtures/formats/kubernetes/longhorn.yaml) |
| Argo CD `Application` | `spec.source(s).chart` | Longhorn values | |
| Longhorn resources | `BackupTarget`, `Setting`, `Node` (`longhorn.io`), ConfigMaps `longhorn-default-setting` / `longhorn-default-resource`, StorageClasses of `driver.longhorn.io` | backup target, settings, disk tags (`spec.disks`), class replica count, disk and node selectors | [longhorn.yaml](../fixtures/formats/kubernetes/longhorn.yaml) |
| Terraform / OpenTofu VM | `proxmox_virtual_environment_vm` (bpg), `proxmox_vm_qemu` (Telmate) in `*.tf` | VM (at the `.tf` line) | [bpg.tf](../fixtures/formats/terraform/bpg.tf), [telmate.tf](../fixtures/formats/terraform/telmate.tf) |
| Talos in Terraform | `config_patches` of `talos_machine_configuration*` (heredoc YAML, `yamlencode`, `file()`, `templatefile()` of a file without `${…}` or `%{…}`), `talos_image_factory_schematic`, `talos_version` | Talos config of the `machine_type` role, schematic, Talos version | [talos.tf](../fixtures/formats/terraform/talos.tf) |
| Longhorn in Terraform | `helm_release` of the `longhorn` chart (`values`, `set`, `version`) | Longhorn values | [longhorn.tf](../fixtures/formats/terraform/longhorn.tf) |
| talhelper `talconfig.yaml` | `clusterName` + `nodes` with `hostname` | Talos version (a `${variable}` filled in from `talenv.yaml`), nodes (with `nodeLabels`, `nodeAnnotations`, `machineDisks`), patches (inline or `@file`, as its envsubst leaves them: `$$patch` is `$patch`) per cluster / role / node, schematic, user volumes; a Talos patch file of its cluster that it does not name is checked but reaches no node | [talconfig.yaml](../fixtures/formats/talhelper/talconfig.yaml) |

Terraform values are evaluated from literals, `locals`, `variable` defaults and `*.tfvars`
(when they agree); a value set by a `module` call, `each.value`, `count.index`, a data source or
a resource attribute is unknown, and a rule that needs it stays silent. A `count` / `for_each`
resource is one template VM. An attribute the provider fills in differently from Proxmox
(ballooning off, bpg's `virtio-scsi-pci` and `qemu64`, Telmate's `host`) takes the provider's
default, except on a bpg clone (a `clone` block): what it does not write (a whole `cpu`,
`memory`, `agent` or `efi_disk` block, `scsi_hardware`, `bios`, its disks and network devices)
is its source VM's, so unknown; the disks it writes may not be all it has. Telmate sends its
defaults to a clone too. Only VMs that say they run Talos (name, tags, image) or that a Talos
resource refers to are checked, unless none does; a VM that names another system and not Talos
(Ubuntu, Debian, Windows, TrueNAS, OPNsense, Home Assistant, ...: in its name, tags,
description, clone source, image or ISO, or a Windows OS type) never is. talhelper's
`talsecret*.yaml` is never read, nor is `talenv*.yaml`, except a plain `talenv.yaml` beside a
talconfig for the variable its `talosVersion` names (`${talosVersion}`, as talhelper fills it in).

Fix hints speak the file a finding is in. The rule documentation below writes fixes as
`qm.conf` lines and Talos patches; a finding in a bpg VM names bpg's attribute (`disk {
discard = \"on\" }`, `cpu { type = \"host\" }`, `memory { floating = 0 }`, `boot_order = [...]`),
one in a Telmate VM Telmate's (`discard = true`, `balloon = 0`, `scsihw`, `boot = \"order=...\"`),
one in Terraform's `config_patches` or `talos_image_factory_schematic` that resource (and
`data.talos_image_factory_urls` for the installer), one in a Longhorn `helm_release` its
`values` or a `set` block, one in `talconfig.yaml` the talhelper key
(`worker.schematic`, `nodes[1].installDiskSelector`, `kernelModules`, `talosImageURL`, the patch it
is in), and one in an intent the intent key.

Longhorn disk tags are known only where the repository declares every disk: with
`createDefaultDiskLabeledNodes` on, a node labelled `node.longhorn.io/create-default-disk:
config` gets the disks of its `node.longhorn.io/default-disks-config` annotation (Talos
`machine.nodeAnnotations`, talhelper `nodeAnnotations`), one labelled `true` an untagged default
disk, and a Longhorn `Node` resource the disks of its `spec.disks`. LHN012 checks StorageClass
disk selectors against them; a StorageClass's `nodeSelector` is read but checked by no rule
(node tags are often set in the Longhorn UI, so the repository cannot prove which exist).
";

/// `docs/rules.md` and `talhorn rules --format markdown`.
pub fn markdown() -> String {
    let metas = all_meta();
    let mut out = String::from(
        "# talhorn rules\n\n<!-- Generated from the rule registry by `talhorn rules --format markdown`; do not edit. -->\n\n",
    );
    out.push_str(FORMATS);
    out.push_str("\n## Rules\n\n| code | name | severity | summary |\n|---|---|---|---|\n");
    for m in &metas {
        out.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} |\n",
            m.code,
            m.code.to_lowercase(),
            m.name,
            m.severity,
            m.summary.replace('|', "\\|")
        ));
    }
    for m in &metas {
        let body = m.docs.trim_end().replace("\n## ", "\n### ");
        let body = body
            .strip_prefix("## ")
            .map_or(body.clone(), |b| format!("### {b}"));
        out.push_str(&format!(
            "\n## {}\n\n`{}` · layer {} · default severity **{}**\n\n{}\n\n{}\n",
            m.code,
            m.name,
            m.layer.as_str(),
            m.severity,
            m.summary,
            body
        ));
    }
    out
}
