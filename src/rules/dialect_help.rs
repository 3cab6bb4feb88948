//! Fix hints in the terms of the file a finding is in. A rule's help speaks the language of the
//! file it was first written for (`discard=on`, `boot: order=`, `machine.kubelet.extraMounts`),
//! but a finding located in a Terraform VM resource must name that provider's attribute
//! (`disk { discard = "on" }` for bpg, `discard = true` for Telmate), one in a talhelper
//! `talconfig.yaml` the talhelper key (`nodes[].schematic`, `patches`), one in Terraform's
//! `config_patches` the Terraform resource that holds the patch, and one in a Longhorn
//! `helm_release` its `values` or `set` blocks.
//!
//! The ingest layer marks the parts of files written in such a [`Dialect`]
//! ([`crate::model::Cluster::dialects`]); this module holds one table per dialect: for each
//! rule code, the hint in that dialect, from the rule's own help (for the values it computed and
//! to tell its variants apart) and the finding's context. A rule without an entry keeps its help.
//! Intent files have their own table ([`super::intent_help`]).

use super::intent_help::{Key, first_number, path_at};
use crate::finding::Finding;
use crate::model::{Cluster, Dialect};
use crate::source::Span;
use crate::yaml::{self, Node};
use std::collections::HashMap;

/// Where a finding is, as a hint may need it.
pub struct Context<'a> {
    /// The text of the region (the resource block, the `config_patches` attribute, the file).
    pub region: &'a str,
    /// For YAML dialects: the key path the finding points at (`nodes[1].installDisk`).
    pub key: Option<Key>,
}

impl Context<'_> {
    /// Whether the region writes `name` as an attribute (`cpu_type =`) or a block (`cpu {`).
    fn writes(&self, name: &str, block: bool) -> bool {
        let opener = if block { '{' } else { '=' };
        self.region.lines().any(|line| {
            line.trim_start()
                .strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with(opener))
        })
    }

    /// The key path up to and including the nearest `token` on it (`worker.schematic`).
    fn key_up_to(&self, token: &str) -> Option<String> {
        self.key.as_ref()?.up_to(token)
    }
}

/// The hint in a dialect, from the rule's help; `None` keeps the rule's help.
type Hint = fn(cx: &Context<'_>, help: &str) -> Option<String>;

/// bpg/proxmox `proxmox_virtual_environment_vm` (provider 0.x): blocks `cpu`, `memory`, `disk`,
/// `efi_disk`, `agent`, `network_device`; `scsi_hardware`, `boot_order`.
const BPG: &[(&str, Hint)] = &[
    ("PVE001", |_, help| {
        let hint = "set `cpu { type = \"host\" }` (or `\"x86-64-v2-AES\"` to keep live migration)";
        // The rule says "add" when no CPU type is written: bpg then picks `qemu64`.
        Some(if help.starts_with("add") {
            format!("{hint}; without it bpg uses `qemu64`")
        } else {
            hint.into()
        })
    }),
    ("PVE003", |_, _| {
        Some(
            "set `file_format = \"raw\"` in the `disk` block, ideally on a `zfspool` \
             datastore (`datastore_id`)"
                .into(),
        )
    }),
    ("PVE004", |_, _| {
        Some(
            "set `floating = 0` in the `memory` block (or remove it) and size `dedicated` for \
             the node's workload"
                .into(),
        )
    }),
    ("PVE005", |_, help| {
        Some(match first_number(help) {
            Some(mib) => format!("set `memory {{ dedicated = {mib} }}` or more"),
            None => "raise `dedicated` in the `memory` block".into(),
        })
    }),
    ("PVE006", |_, help| {
        Some(match first_number(help) {
            Some(cores) => format!("set `cpu {{ cores = {cores} }}` or more"),
            None => "raise `cores` in the `cpu` block".into(),
        })
    }),
    ("PVE007", |_, _| {
        Some(
            "set `scsi_hardware = \"virtio-scsi-pci\"` (or `\"virtio-scsi-single\"` with \
             `iothread = true` on each `disk`)"
                .into(),
        )
    }),
    ("PVE008", |_, help| {
        Some(if help.contains("add `iothread=1`") {
            "set `iothread = true` in the `disk` block".into()
        } else {
            "set `scsi_hardware = \"virtio-scsi-single\"`, or remove `iothread = true` from the \
             `disk` block"
                .into()
        })
    }),
    ("PVE009", |_, _| {
        Some("set `discard = \"on\"` in the `disk` block".into())
    }),
    ("PVE010", |_, _| {
        Some(
            "set `file_format = \"raw\"` in the data `disk` block (or put it on an LVM-thin or \
             ZFS datastore)"
                .into(),
        )
    }),
    ("PVE011", |_, _| {
        Some("set `numa = true` in the `cpu` block, or `sockets = 1` with more `cores`".into())
    }),
    ("PVE012", |_, help| {
        Some(if help.contains("to the schematic") {
            "add `siderolabs/qemu-guest-agent` to the schematic, or set \
             `agent { enabled = false }`"
                .into()
        } else {
            "set `enabled = true` (and `trim = true`) in the `agent` block".into()
        })
    }),
    ("PVE013", |_, help| {
        Some(match boot_order(help) {
            Some(order) => format!(
                "set `boot_order = [{}]`",
                order
                    .iter()
                    .map(|d| format!("\"{d}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "set `boot_order` with the OS disk first".into(),
        })
    }),
    ("PVE014", |_, _| {
        Some(
            "add an `efi_disk` block with `datastore_id` (e.g. `\"local-lvm\"`) and \
             `type = \"4m\"`"
                .into(),
        )
    }),
    ("PVE015", |_, _| {
        Some(
            "add a data `disk` block (e.g. `interface = \"virtio1\"` with a `serial`) and \
             select it in a Talos UserVolumeConfig"
                .into(),
        )
    }),
    ("PVE016", |_, _| {
        Some(
            "set `file_format = \"raw\"` (or remove it): block datastores hold raw volumes only"
                .into(),
        )
    }),
    ("PVE019", |_, help| {
        Some(if help.contains("vmid") {
            "give this VM a `vm_id` that no other VM uses".into()
        } else {
            "give this VM a `name` that no other VM uses".into()
        })
    }),
    ("NET001", |_, help| nic_mtu(help, "network_device")),
    ("NET004", |_, help| {
        address_owner(
            help,
            "`mac_address` of its `network_device`",
            "cloud-init address (`initialization { ip_config { ipv4 { address } } }`)",
        )
    }),
];

/// Telmate/proxmox `proxmox_vm_qemu` (provider 3.x): `cpu { type, cores, sockets, numa }`
/// (3.0.1: `cpu_type`, top-level `cores`), `memory`, `balloon`, `hotplug`, `scsihw`, `boot`,
/// `agent`, `efidisk`, `disks { … disk { … } }`, `network`.
const TELMATE: &[(&str, Hint)] = &[
    ("PVE001", |cx, _| {
        Some(if cx.writes("cpu_type", false) {
            "set `cpu_type = \"host\"` (or `\"x86-64-v2-AES\"` to keep live migration)".into()
        } else {
            "set `cpu { type = \"host\" }` (or `\"x86-64-v2-AES\"` to keep live migration)".into()
        })
    }),
    ("PVE002", |_, _| {
        Some("remove `memory` from `hotplug` (e.g. `hotplug = \"network,disk,usb\"`)".into())
    }),
    ("PVE003", |_, _| {
        Some("set `format = \"raw\"` in the `disk` block, ideally on a `zfspool` `storage`".into())
    }),
    ("PVE004", |_, _| {
        Some("set `balloon = 0` (or remove it) and size `memory` for the node's workload".into())
    }),
    ("PVE005", |_, help| {
        Some(match first_number(help) {
            Some(mib) => format!("set `memory = {mib}` or more"),
            None => "raise `memory`".into(),
        })
    }),
    ("PVE006", |cx, help| {
        let cores = |n: String| {
            if cx.writes("cpu", true) {
                format!("`cpu {{ cores = {n} }}`")
            } else {
                format!("`cores = {n}`")
            }
        };
        Some(match first_number(help) {
            Some(n) => format!("set {} or more", cores(n.to_string())),
            None => "raise `cores`".into(),
        })
    }),
    ("PVE007", |_, _| {
        Some(
            "set `scsihw = \"virtio-scsi-pci\"` (or `\"virtio-scsi-single\"` with \
             `iothread = true` on each disk)"
                .into(),
        )
    }),
    ("PVE008", |_, help| {
        Some(if help.contains("add `iothread=1`") {
            "set `iothread = true` in the `disk` block".into()
        } else {
            "set `scsihw = \"virtio-scsi-single\"`, or remove `iothread = true` from the `disk` \
             block"
                .into()
        })
    }),
    ("PVE009", |_, _| {
        Some("set `discard = true` in the `disk` block".into())
    }),
    ("PVE010", |_, _| {
        Some(
            "set `format = \"raw\"` in the data `disk` block (or put it on an LVM-thin or ZFS \
             `storage`)"
                .into(),
        )
    }),
    ("PVE011", |cx, _| {
        Some(if cx.writes("cpu", true) {
            "set `numa = true` in the `cpu` block, or `sockets = 1` with more `cores`".into()
        } else {
            "set `numa = true`, or `sockets = 1` with more `cores`".into()
        })
    }),
    ("PVE012", |_, help| {
        Some(if help.contains("to the schematic") {
            "add `siderolabs/qemu-guest-agent` to the schematic, or set `agent = 0`".into()
        } else {
            "set `agent = 1`".into()
        })
    }),
    ("PVE013", |_, help| {
        Some(match boot_order(help) {
            Some(order) => format!("set `boot = \"order={}\"`", order.join(";")),
            None => "set `boot = \"order=…\"` with the OS disk first".into(),
        })
    }),
    ("PVE014", |_, _| {
        Some(
            "add an `efidisk` block with `efitype = \"4m\"` and `storage` (e.g. \
             `\"local-lvm\"`)"
                .into(),
        )
    }),
    ("PVE015", |_, _| {
        Some(
            "add a data disk (a `virtio1` slot in the `virtio` block of `disks`, whose `disk` \
             block sets `storage`, `size` and a `serial`) and select it in a Talos \
             UserVolumeConfig"
                .into(),
        )
    }),
    ("PVE016", |_, _| {
        Some("set `format = \"raw\"` (or remove it): block storages hold raw volumes only".into())
    }),
    ("PVE019", |_, help| {
        Some(if help.contains("vmid") {
            "give this VM a `vmid` that no other VM uses".into()
        } else {
            "give this VM a `name` that no other VM uses".into()
        })
    }),
    ("NET001", |_, help| nic_mtu(help, "network")),
    ("NET004", |_, help| {
        address_owner(
            help,
            "`macaddr` of its `network` block",
            "`ipconfig0` address",
        )
    }),
];

/// Talos patches in `config_patches` of `talos_machine_configuration` (siderolabs/talos
/// provider): the YAML is the same, the place to change is the resource's patch list.
const CONFIG_PATCHES: &[(&str, Hint)] = &[
    ("TAL004", |_, help| {
        Some(help.replacen(
            "add to `machine.kubelet.extraMounts`",
            "add to `machine.kubelet.extraMounts` in a `config_patches` entry of the \
             `talos_machine_configuration` of these nodes",
            1,
        ))
    }),
    ("TAL006", |_, help| {
        // The installer the rule computed, when it knows the schematic's ID.
        let image = help
            .find("factory.talos.dev/")
            .and_then(|start| help[start..].split([' ', '`']).next())
            .filter(|image| !image.contains("<schematic") && !image.contains("<version>"));
        let factory = "`data.talos_image_factory_urls` gives as `urls.installer` for the \
                       `talos_image_factory_schematic`'s ID";
        Some(match image {
            Some(image) => format!(
                "set `machine.install.image` in the `config_patches` entry to `{image}` (what \
                 {factory})"
            ),
            None => format!(
                "set `machine.install.image` in the `config_patches` entry to the installer \
                 {factory}"
            ),
        })
    }),
    ("TAL007", |_, help| {
        Some(help.replacen(
            "`serial=` on a VirtIO Block disk",
            "a `serial` on the VM's VirtIO Block disk",
            1,
        ))
    }),
    ("TAL010", |_, help| Some(in_config_patches(help))),
    ("TAL011", |_, help| Some(in_config_patches(help))),
    ("TAL015", |_, _| {
        Some(
            "give the VM a data disk, and a partition or disk `UserVolumeConfig` for Longhorn \
             (mounted at the data path) in a `config_patches` entry"
                .into(),
        )
    }),
];

/// The `schematic` of `talos_image_factory_schematic` (usually `yamlencode({...})`).
const TERRAFORM_SCHEMATIC: &[(&str, Hint)] = &[
    ("TAL001", |_, help| Some(in_terraform_schematic(help))),
    ("TAL002", |_, help| Some(in_terraform_schematic(help))),
];

/// A Longhorn `helm_release`: a values key goes into its `values` or a `set` block.
const HELM_RELEASE: &[(&str, Hint)] = &[
    ("LHN003", |_, help| in_helm_release(help)),
    ("LHN007", |_, help| in_helm_release(help)),
    ("LHN010", |_, help| in_helm_release(help)),
    ("LHN011", |_, help| in_helm_release(help)),
];

/// A Helm values hint (`set \`a.b: v\``) with where it goes in a `helm_release`.
fn in_helm_release(help: &str) -> Option<String> {
    let written = help.split('`').nth(1)?;
    let (name, value) = match written.split_once(": ") {
        Some((name, value)) => (name, Some(value.trim_matches('"'))),
        None => (written, None),
    };
    if !name.contains('.') {
        return None;
    }
    let set = match value {
        Some(value) => format!("a `set` block with `name = \"{name}\"` and `value = \"{value}\"`"),
        None => format!("a `set` block per key (`name = \"{name}\"`, …)"),
    };
    Some(format!(
        "{help} (in the `helm_release`: in its `values`, or {set})"
    ))
}

/// talhelper's `talconfig.yaml`: per node `schematic`, `installDisk` / `installDiskSelector`,
/// `networkInterfaces`, `kernelModules`, `userVolumes`, `talosImageURL`; `patches` at the top,
/// under `controlPlane` / `worker` and per node.
const TALHELPER: &[(&str, Hint)] = &[
    ("NET005", |_, help| {
        let ip = help.strip_prefix("make ")?.split_whitespace().next()?;
        Some(format!(
            "make {ip} a shared VIP of the control planes (`vip: {{ ip: {ip} }}` in their \
             `networkInterfaces`), or point `endpoint` at a control plane's `ipAddress` or a \
             load-balanced DNS name"
        ))
    }),
    ("TAL001", |cx, help| talhelper_schematic(cx, help)),
    ("TAL002", |cx, help| talhelper_schematic(cx, help)),
    ("TAL004", |_, help| {
        Some(help.replacen(
            "add to `machine.kubelet.extraMounts`",
            "add a talhelper patch (under `worker.patches`, or the top-level `patches`) with \
             `machine.kubelet.extraMounts`",
            1,
        ))
    }),
    ("TAL006", |cx, _| {
        let node = match place(cx) {
            Place::Node(node) => format!("`{node}`"),
            _ => "each node".to_owned(),
        };
        Some(format!(
            "remove `machine.install.image` from the patch: talhelper installs the factory \
             installer of the `schematic` of {node} (or set its `talosImageURL` to \
             factory.talos.dev/<platform>-installer/<schematic ID>)"
        ))
    }),
    ("TAL007", |cx, _| {
        Some(match place(cx) {
            Place::Node(node) if cx.key.as_ref().and_then(Key::last) == Some("installDisk") => {
                format!(
                    "replace `{node}.installDisk` with `{node}.installDiskSelector` on a stable \
                     property: a `serial` on the VM's VirtIO Block disk and `serial:` in the \
                     selector (see TAL017 for other buses)"
                )
            }
            Place::Patch(patch) => format!(
                "in the patch `{patch}`, select the disk by a stable property instead of a \
                 device name (a `serial` on the VM's VirtIO Block disk and `disk.serial`), or \
                 remove the device and set `installDiskSelector` on the nodes (see TAL017 for \
                 other buses)"
            ),
            _ => "select the disk by a stable property instead of a device name: a `serial` on \
                  the VM's VirtIO Block disk and `serial:` in `installDiskSelector` (see TAL017 \
                  for other buses)"
                .into(),
        })
    }),
    ("TAL010", |cx, help| Some(in_talhelper_patch(cx, help))),
    ("TAL011", |cx, help| {
        let module = help.split('`').nth(1)?.strip_prefix("- name: ")?;
        Some(match place(cx) {
            Place::Node(node) => format!("add `- name: {module}` to `{node}.kernelModules`"),
            _ => format!(
                "{}, or add `- name: {module}` to `kernelModules` of each storage node",
                in_talhelper_patch(cx, help)
            ),
        })
    }),
    ("TAL013", |_, _| {
        Some(
            "give the node a static address (`networkInterfaces[].addresses` with `dhcp: \
             false`, and `ipAddress`), or reserve its MAC address on the DHCP server"
                .into(),
        )
    }),
    ("TAL015", |_, _| {
        Some(
            "give the VM a data disk and the node a `userVolumes` entry (a partition or disk \
             volume) for Longhorn, mounted at the data path"
                .into(),
        )
    }),
    ("TAL016", |cx, _| {
        Some(match place(cx) {
            Place::Node(node) => format!(
                "remove the entry from `{node}.kernelModules`; Longhorn V1 needs no kernel \
                 modules on Talos"
            ),
            Place::Patch(patch) => format!(
                "remove the entry from the patch `{patch}`; Longhorn V1 needs no kernel modules \
                 on Talos"
            ),
            Place::Other => "remove the entry; Longhorn V1 needs no kernel modules on Talos".into(),
        })
    }),
];

/// Where in a `talconfig.yaml` a finding is.
enum Place {
    /// In a patch: `worker.patches[0]`.
    Patch(String),
    /// In a node's own settings: `nodes[1]`.
    Node(String),
    Other,
}

fn place(cx: &Context<'_>) -> Place {
    let Some(key) = &cx.key else {
        return Place::Other;
    };
    if let Some(patches) = key.up_to("patches") {
        let entry = key
            .to_string()
            .strip_prefix(&patches)
            .and_then(|rest| rest.strip_prefix('['))
            .and_then(|rest| rest.split(']').next())
            .map(|index| format!("{patches}[{index}]"));
        return Place::Patch(entry.unwrap_or(patches));
    }
    if key.up_to("nodes").is_some() {
        return Place::Node(key.entry());
    }
    Place::Other
}

fn in_talhelper_patch(cx: &Context<'_>, help: &str) -> String {
    match place(cx) {
        Place::Patch(patch) => format!("{help}, in the patch `{patch}`"),
        _ => format!("{help}, in a talhelper patch (`worker.patches` or the top-level `patches`)"),
    }
}

fn table(dialect: Dialect) -> &'static [(&'static str, Hint)] {
    match dialect {
        Dialect::Bpg => BPG,
        Dialect::Telmate => TELMATE,
        Dialect::ConfigPatches => CONFIG_PATCHES,
        Dialect::TerraformSchematic => TERRAFORM_SCHEMATIC,
        Dialect::HelmRelease => HELM_RELEASE,
        Dialect::Talhelper => TALHELPER,
    }
}

/// The codes whose help a dialect rewrites (for tests and docs).
pub fn codes(dialect: Dialect) -> impl Iterator<Item = &'static str> {
    table(dialect).iter().map(|(code, _)| *code)
}

/// Rewrites the help of findings located in a region of another dialect.
pub fn apply(findings: &mut [Finding], cluster: &Cluster) {
    let mut trees: HashMap<crate::source::FileId, Option<Node>> = HashMap::new();
    for finding in findings {
        let Some(region) = cluster.region_at(finding.at) else {
            continue;
        };
        let Some((_, hint)) = table(region.dialect)
            .iter()
            .find(|(code, _)| *code == finding.code)
        else {
            continue;
        };
        let text = &cluster.sources.get(region.at.file).text;
        let key = (region.dialect == Dialect::Talhelper)
            .then(|| {
                let tree = trees
                    .entry(region.at.file)
                    .or_insert_with(|| yaml::parse_document(text).ok());
                tree.as_ref()
                    .map(|tree| Key::new(path_at(tree, finding.at.span)))
            })
            .flatten();
        let cx = Context {
            region: text.get(span_range(region.at.span)).unwrap_or_default(),
            key,
        };
        if let Some(help) = hint(&cx, finding.help.as_deref().unwrap_or_default()) {
            finding.help = Some(help);
        }
    }
}

fn span_range(span: Span) -> std::ops::Range<usize> {
    span.start..span.end
}

/// The devices of `boot: order=a;b;c` in a help.
fn boot_order(help: &str) -> Option<Vec<&str>> {
    let order = help.split("order=").nth(1)?.split('`').next()?;
    let devices: Vec<&str> = order.split(';').filter(|d| !d.is_empty()).collect();
    (!devices.is_empty()).then_some(devices)
}

/// NET001's hints on a NIC block (`network_device` / `network`).
fn nic_mtu(help: &str, block: &str) -> Option<String> {
    if help.contains("mtu=1") {
        Some(format!(
            "set `mtu = 1` in the `{block}` block so the guest inherits the bridge's MTU"
        ))
    } else if help.contains("NIC model") {
        Some(format!("set `model = \"virtio\"` in the `{block}` block"))
    } else {
        None
    }
}

/// NET004's "give X a Y of its own" with the provider's attribute, for a VM's address.
fn address_owner(help: &str, mac: &str, ip: &str) -> Option<String> {
    if !(help.starts_with("give VM ") || help.starts_with("give the VM ")) {
        return None;
    }
    let owner = help
        .strip_prefix("give ")?
        .rsplit_once(" a MAC address")
        .or_else(|| help.strip_prefix("give ")?.rsplit_once(" an address"))?
        .0;
    if help.contains("MAC") || help.contains("mac") {
        Some(format!("give {owner} a {mac} that no other machine uses"))
    } else if help.contains("address") {
        Some(format!("give {owner} a {ip} that no other machine uses"))
    } else {
        None
    }
}

fn in_config_patches(help: &str) -> String {
    format!("{help}, in a `config_patches` entry of the `talos_machine_configuration`")
}

/// TAL001 / TAL002 in `talos_image_factory_schematic`.
fn in_terraform_schematic(help: &str) -> String {
    let extension = help.split('`').nth(1).unwrap_or("the extension");
    format!(
        "add `\"{extension}\"` to `officialExtensions` of `customization.systemExtensions` in \
         the `schematic` of `talos_image_factory_schematic`, then install from the new \
         schematic's installer (`data.talos_image_factory_urls`)"
    )
}

/// TAL001 / TAL002 in talhelper: the `schematic` of the node, role or the one the finding is at.
fn talhelper_schematic(cx: &Context<'_>, help: &str) -> Option<String> {
    let extension = help.split('`').nth(1)?;
    let schematic = cx
        .key_up_to("schematic")
        .unwrap_or_else(|| "worker.schematic".into());
    Some(format!(
        "add `{extension}` to `{schematic}.customization.systemExtensions.officialExtensions` \
         (and to every node's or role's `schematic`); talhelper installs that schematic's \
         factory installer"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint of `code` in `dialect` for a rule help, in a region and at a YAML key.
    fn hint(dialect: Dialect, code: &str, region: &str, key: &[&str], help: &str) -> String {
        let (_, hint) = table(dialect)
            .iter()
            .find(|(c, _)| *c == code)
            .unwrap_or_else(|| panic!("no {code} hint for {dialect:?}"));
        let cx = Context {
            region,
            key: Some(Key::new(key.iter().map(|k| (*k).to_owned()).collect())),
        };
        hint(&cx, help).unwrap_or_else(|| panic!("{code}: no hint for `{help}`"))
    }

    #[test]
    fn each_variant_of_a_rule_help_has_its_provider_hint() {
        let bpg = |code, help| hint(Dialect::Bpg, code, "", &[], help);
        let telmate = |code, region, help| hint(Dialect::Telmate, code, region, &[], help);
        assert_eq!(
            bpg("PVE008", "add `iothread=1` to the disk"),
            "set `iothread = true` in the `disk` block"
        );
        assert_eq!(
            bpg("PVE012", "set `agent: enabled=1,fstrim_cloned_disks=1`"),
            "set `enabled = true` (and `trim = true`) in the `agent` block"
        );
        assert_eq!(
            telmate("PVE012", "", "set `agent: enabled=1,fstrim_cloned_disks=1`"),
            "set `agent = 1`"
        );
        assert!(bpg("PVE019", "give this VM a vmid that no other VM uses").contains("`vm_id`"));
        assert!(
            telmate("PVE019", "", "give this VM a vmid that no other VM uses").contains("`vmid`")
        );
        assert!(!bpg("PVE001", "use `cpu: host` or `cpu: x86-64-v2-AES`").contains("qemu64"));
        assert!(
            bpg(
                "PVE001",
                "add `cpu: host` (or `cpu: x86-64-v2-AES` to keep live migration)"
            )
            .contains("qemu64")
        );
        let block = "resource \"proxmox_vm_qemu\" \"w\" {\n  cpu {\n    type = \"kvm64\"\n  }\n}\n";
        assert!(telmate("PVE001", block, "use `cpu: host`").contains("`cpu { type = \"host\" }`"));
        assert_eq!(
            telmate("PVE006", block, "set `cores: 4` or more"),
            "set `cpu { cores = 4 }` or more"
        );
        assert_eq!(
            telmate("PVE006", "cores = 1", "set `cores: 4` or more"),
            "set `cores = 4` or more"
        );
        assert!(
            bpg("NET001", "use `virtio` as the NIC model")
                .contains("`model = \"virtio\"` in the `network_device` block")
        );
        assert!(
            bpg("PVE013", "add `boot: order=` listing the OS disk first")
                .contains("`boot_order` with the OS disk first")
        );
    }

    #[test]
    fn a_helm_values_hint_names_the_set_block() {
        assert_eq!(
            in_helm_release("set `persistence.defaultClassReplicaCount: 3`").as_deref(),
            Some(
                "set `persistence.defaultClassReplicaCount: 3` (in the `helm_release`: in its \
                 `values`, or a `set` block with `name = \"persistence.defaultClassReplicaCount\"` \
                 and `value = \"3\"`)"
            )
        );
        assert_eq!(in_helm_release("label the namespace `x: y`"), None);
    }

    #[test]
    fn an_address_hint_is_for_a_vm_only() {
        assert_eq!(
            address_owner("give node `w-2` an address of its own", "mac", "ip"),
            None
        );
        assert_eq!(
            address_owner(
                "give VM 202 (w-2) `net0` a MAC address of its own",
                "`m`",
                "ip"
            ),
            Some("give VM 202 (w-2) `net0` a `m` that no other machine uses".to_owned())
        );
    }

    #[test]
    fn talhelper_hints_name_the_node_or_the_patch() {
        let at = |code, key: &[&str], help| hint(Dialect::Talhelper, code, "", key, help);
        assert!(
            at("TAL007", &["nodes", "1", "installDisk"], "")
                .contains("replace `nodes[1].installDisk` with `nodes[1].installDiskSelector`")
        );
        assert_eq!(
            at(
                "TAL011",
                &["nodes", "1", "kernelModules", "0"],
                "add `- name: vfio_pci` to `machine.kernel.modules`"
            ),
            "add `- name: vfio_pci` to `nodes[1].kernelModules`"
        );
        assert!(
            at(
                "TAL016",
                &["nodes", "0", "kernelModules", "1"],
                "remove the entry"
            )
            .contains("from `nodes[0].kernelModules`")
        );
        assert!(
            at(
                "TAL016",
                &["controlPlane", "patches", "2"],
                "remove the entry"
            )
            .contains("from the patch `controlPlane.patches[2]`")
        );
        assert!(at("TAL006", &["nodes", "2", "patches", "0"], "").contains("each node"));
        assert!(at("TAL006", &["nodes", "2", "talosImageURL"], "").contains("`nodes[2]`"));
    }

    #[test]
    fn boot_orders_come_from_the_rule_help() {
        assert_eq!(
            boot_order("use `boot: order=scsi0;ide2;net0`"),
            Some(vec!["scsi0", "ide2", "net0"])
        );
        assert_eq!(
            boot_order("add `boot: order=` listing the OS disk first"),
            None
        );
    }

    #[test]
    fn a_block_is_written_when_its_name_starts_a_line() {
        let cx = Context {
            region: "resource \"x\" \"y\" {\n  cpu_type = \"kvm64\"\n  cpu {\n  }\n}\n",
            key: None,
        };
        assert!(cx.writes("cpu_type", false));
        assert!(cx.writes("cpu", true));
        assert!(!cx.writes("cpu", false));
        assert!(!cx.writes("cores", false));
    }
}
