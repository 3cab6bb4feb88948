//! Whether a Terraform VM resource says it runs a system other than Talos: an Ubuntu jump
//! host, a TrueNAS or Home Assistant VM beside the Talos nodes. Such a VM is never checked
//! against Talos's needs ([`super::TerraformFacts::talos_vms`]).
//!
//! Only what names the guest system is read: the VM's `name`, `tags` and description, the VM
//! or template it clones, the image or ISO it boots and its OS type. Each is read as written
//! (`proxmox_virtual_environment_vm.ubuntu_template.vm_id`) and, when known, as its value
//! (`var.template` → `"debian-12-cloud"`).

use super::hcl::{Attr, Eval, span_of};
use crate::yaml::{Node, Value};
use hcl_edit::structure::Body;

/// Systems other than Talos, each a sequence of lower-case words. A text names one when these
/// words follow each other in it, words being its runs of ASCII letters, split again where a
/// lower-case letter is followed by an upper-case one (`UbuntuServer`, `HomeAssistant`) and also
/// taken whole (`TrueNAS`, `NixOS`). Digits and punctuation separate words, so `debian-12`,
/// `ubuntu_23_10_template` and `rocky9` name their system and `architecture` names none.
///
/// Left out on purpose: a bare `arch` (Terraform code names the CPU architecture so: `var.arch`,
/// `nocloud-${var.arch}.raw`; `archlinux` and `arch linux` are in), a bare `mint`, and `proxmox`
/// (every resource type of both providers has it).
pub const OTHER_SYSTEMS: &[&str] = &[
    // Linux distributions
    "ubuntu",
    "debian",
    "centos",
    "rocky",
    "rockylinux",
    "alma",
    "almalinux",
    "rhel",
    "redhat",
    "red hat",
    "oraclelinux",
    "oracle linux",
    "fedora",
    "opensuse",
    "suse",
    "sles",
    "archlinux",
    "arch linux",
    "manjaro",
    "gentoo",
    "nixos",
    "alpine",
    "linuxmint",
    "linux mint",
    "kali",
    "flatcar",
    "coreos",
    "fcos",
    // Other operating systems
    "windows",
    "freebsd",
    "openbsd",
    "netbsd",
    // Appliances
    "truenas",
    "freenas",
    "unraid",
    "openmediavault",
    "opnsense",
    "pfsense",
    "openwrt",
    "vyos",
    "routeros",
    "mikrotik",
    "haos",
    "hassos",
    "homeassistant",
    "home assistant",
];

/// Attributes of the resource itself that may name its system: bpg's and Telmate's name,
/// tags and description, Telmate's template (`clone`) and `os_type` (`ubuntu`, `centos`).
const OWN_KEYS: &[&str] = &["name", "tags", "description", "desc", "clone", "os_type"];

/// Attributes of its blocks (at any depth) that name a source: bpg's `clone { vm_id }`, a
/// disk's `file_id` / `import_from`, a CD-ROM's `file_id`, Telmate's `iso`.
const BLOCK_KEYS: &[&str] = &["vm_id", "file_id", "import_from", "iso"];

/// A bpg VM that only holds disks for another VM (bpg's documented "attached disks" pattern):
/// `started = false` and no network device. It never boots, so it runs no system at all.
pub fn holds_disks_only(eval: Eval<'_>, body: &Body) -> bool {
    let never_started = eval
        .attr(body, "started")
        .known()
        .is_some_and(|started| matches!(started.value, crate::yaml::Value::Bool(false)));
    never_started && body.get_blocks("network_device").next().is_none()
}

/// The other system a VM resource's body names, if any. `text` is the file's text.
pub fn other_system(eval: Eval<'_>, text: &str, body: &Body) -> Option<&'static str> {
    let mut said = Vec::new();
    for key in OWN_KEYS {
        said_by(eval, text, body, key, &mut said);
    }
    blocks_say(eval, text, body, 0, &mut said);
    said.iter()
        .find_map(|s| names_system(s))
        .or_else(|| os_type(eval, body))
}

/// How deep blocks are searched: Telmate's `disks { ide { ide2 { cdrom { iso } } } }` is the
/// deepest place a source is written; the bound keeps hostile nesting off the stack.
const MAX_BLOCK_DEPTH: usize = 6;

fn blocks_say(eval: Eval<'_>, text: &str, body: &Body, depth: usize, said: &mut Vec<String>) {
    if depth >= MAX_BLOCK_DEPTH {
        return;
    }
    for block in body.blocks() {
        for key in BLOCK_KEYS {
            said_by(eval, text, &block.body, key, said);
        }
        blocks_say(eval, text, &block.body, depth + 1, said);
    }
}

/// The attribute as written and, when known, its value.
fn said_by(eval: Eval<'_>, text: &str, body: &Body, key: &str, said: &mut Vec<String>) {
    let Some(attribute) = body.get_attribute(key) else {
        return;
    };
    let span = span_of(&attribute.value);
    said.extend(text.get(span.start..span.end).map(str::to_owned));
    if let Attr::Known(node) = eval.attr(body, key) {
        scalars(&node, said);
    }
}

fn scalars(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|item| scalars(item, out)),
        _ => out.extend(node.scalar_text()),
    }
}

/// Windows or Solaris from the Proxmox OS type (bpg `operating_system { type }`, Telmate
/// `qemu_os`): `win11`, `w2k8`, `wxp`, `solaris`. Linux (`l26`) and `other` say nothing.
fn os_type(eval: Eval<'_>, body: &Body) -> Option<&'static str> {
    let bpg = body
        .get_blocks("operating_system")
        .next()
        .and_then(|os| eval.attr(&os.body, "type").known());
    let value = bpg.or_else(|| eval.attr(body, "qemu_os").known())?;
    let value = value.scalar_text()?.to_ascii_lowercase();
    if value.starts_with('w') {
        Some("windows")
    } else if value == "solaris" {
        Some("solaris")
    } else {
        None
    }
}

/// The entry of [`OTHER_SYSTEMS`] a text names.
pub fn names_system(text: &str) -> Option<&'static str> {
    let whole = words(text, false);
    let split = words(text, true);
    OTHER_SYSTEMS.iter().copied().find(|entry| {
        let wanted: Vec<&str> = entry.split(' ').collect();
        [&whole, &split].iter().any(|words| {
            words
                .windows(wanted.len())
                .any(|run| run.iter().zip(&wanted).all(|(word, want)| word == want))
        })
    })
}

/// The runs of ASCII letters of a text, lower-cased; `camel` splits them again before an
/// upper-case letter that follows a lower-case one.
fn words(text: &str, camel: bool) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut after_lower = false;
    for c in text.chars() {
        if !c.is_ascii_alphabetic() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            after_lower = false;
            continue;
        }
        if camel && after_lower && c.is_ascii_uppercase() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
        after_lower = c.is_ascii_lowercase();
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_are_named_on_word_boundaries() {
        let named = |text| names_system(text);
        assert_eq!(
            named("proxmox_virtual_environment_vm.ubuntu_23_10_template.vm_id"),
            Some("ubuntu")
        );
        assert_eq!(
            named("[\"terraform\", \"ubuntu\", \"eyedeck\"]"),
            Some("ubuntu")
        );
        assert_eq!(
            named("local:iso/debian-12-genericcloud-amd64.qcow2"),
            Some("debian")
        );
        assert_eq!(named("rocky9-template"), Some("rocky"));
        assert_eq!(named("UbuntuServer"), Some("ubuntu"));
        assert_eq!(named("TrueNAS-SCALE"), Some("truenas"));
        assert_eq!(named("NixOS"), Some("nixos"));
        assert_eq!(named("Home Assistant OS"), Some("home assistant"));
        assert_eq!(named("HomeAssistant"), Some("homeassistant"));
        assert_eq!(named("Arch Linux"), Some("arch linux"));
        // Not a system's name: a CPU architecture, words that merely contain one.
        assert_eq!(named("talos-${var.arch}"), None);
        assert_eq!(named("cpu architecture"), None);
        assert_eq!(named("nocloud-amd64.raw"), None);
        assert_eq!(named("debianized"), None);
        assert_eq!(
            named("proxmox_virtual_environment_download_file.talos.id"),
            None
        );
        assert_eq!(named("cp-1"), None);
    }
}
