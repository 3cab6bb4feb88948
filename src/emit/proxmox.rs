//! `proxmox/<vmid>-<name>.conf` and `proxmox/create-vms.sh` from the model's VMs.

use super::templates::{self, ShellWord};
use crate::model::proxmox::CloudInit;
use crate::model::{Disk, DiskRole, Host, Nic, Vm};
use minijinja::Value;
use minijinja::value::Object;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A `qm.conf` line, and a `qm create` / `qm set` option (the flag without its `--`): plain
/// pairs, turned into template values without a serde pass per VM.
type Pair<'a, V> = (&'a str, V);

/// The template's list of `[key, value]` pairs (it unpacks them: `for key, value in ...`).
fn pairs<'a, V: Into<Value>>(pairs: impl IntoIterator<Item = Pair<'a, V>>) -> Value {
    pairs
        .into_iter()
        .map(|(key, value)| Value::from_iter([Value::from(key), value.into()]))
        .collect()
}

/// What `create-vms.sh` prints for one VM, as template values: every option value is a quoted
/// shell word. An object rather than a map: the template reads `vm.vmid` once per line.
#[derive(Debug)]
struct VmScript {
    label: Value,
    vmid: Value,
    create: Value,
    sets: Value,
}

impl Object for VmScript {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let value = match key.as_str()? {
            "label" => &self.label,
            "vmid" => &self.vmid,
            "create" => &self.create,
            "sets" => &self.sets,
            _ => return None,
        };
        Some(value.clone())
    }
}

fn bool_flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

/// Volume name Proxmox gives a VM's n-th disk on one storage: each storage numbers a VM's disks
/// from 0 (pve-storage `find_free_diskname` looks only at that storage), in the order
/// `create-vms.sh` allocates them (efidisk0, then the disks in slot order).
fn volume_name(host: &Host, storage: &str, vmid: u32, n: usize, format: Option<&str>) -> String {
    volume(
        host,
        storage,
        vmid,
        &format!("disk-{n}"),
        format.unwrap_or("raw"),
    )
}

/// `<storage>:vm-<id>-<stem>`, or `<storage>:<id>/vm-<id>-<stem>.<format>` on a file storage.
fn volume(host: &Host, storage: &str, vmid: u32, stem: &str, format: &str) -> String {
    let file_based = host.storage(storage).is_some_and(|s| {
        matches!(
            s.kind.as_str(),
            "dir" | "nfs" | "cifs" | "btrfs" | "glusterfs" | "cephfs"
        )
    });
    if file_based {
        format!("{storage}:{vmid}/vm-{vmid}-{stem}.{format}")
    } else {
        format!("{storage}:vm-{vmid}-{stem}")
    }
}

/// Drive options after the volume, in the order Proxmox prints them (sorted).
fn drive_options(disk: &Disk, with_size: bool) -> Vec<String> {
    let mut options = Vec::new();
    if disk.role == DiskRole::Cdrom {
        options.push("media=cdrom".to_string());
        return options;
    }
    if disk.discard.as_ref().is_some_and(|d| d.value) {
        options.push("discard=on".into());
    }
    if let Some(format) = &disk.format {
        options.push(format!("format={}", format.value));
    }
    if disk.iothread.as_ref().is_some_and(|d| d.value) {
        options.push("iothread=1".into());
    }
    if let Some(serial) = &disk.serial {
        options.push(format!("serial={}", serial.value));
    }
    if with_size && let Some(size) = &disk.size_mib {
        options.push(format!("size={}", crate::intent::size::qm_size(size.value)));
    }
    if disk.ssd.as_ref().is_some_and(|d| d.value) {
        options.push("ssd=1".into());
    }
    options
}

fn nic_value(nic: &Nic) -> String {
    let mut parts = vec![match &nic.mac {
        Some(mac) => format!("{}={}", nic.model.value, mac.value),
        None => nic.model.value.clone(),
    }];
    if let Some(bridge) = &nic.bridge {
        parts.push(format!("bridge={}", bridge.value));
    }
    parts.push(format!("firewall={}", bool_flag(nic.firewall)));
    if let Some(mtu) = &nic.mtu {
        parts.push(format!("mtu={}", mtu.value));
    }
    if let Some(tag) = nic.vlan {
        parts.push(format!("tag={tag}"));
    }
    parts.join(",")
}

/// The cloud-init settings besides the drive: `citype`, `ipconfig0`, `nameserver`.
fn cloud_init_options(ci: &CloudInit) -> Vec<(&'static str, String)> {
    let mut options = vec![
        ("citype", ci.citype.to_string()),
        ("ipconfig0", ci.ipconfig0.clone()),
    ];
    if !ci.nameservers.is_empty() {
        options.push(("nameserver", ci.nameservers.join(" ")));
    }
    options
}

const AGENT_ON: &str = "enabled=1,fstrim_cloned_disks=1";

/// The `key: value` lines of a VM config, sorted by key as Proxmox writes them.
fn conf_lines<'a>(vm: &'a Vm, host: &Host) -> Vec<Pair<'a, String>> {
    let vmid = vm.vmid.as_ref().map_or(0, |v| v.value);
    let mut lines = Vec::new();
    let mut push = |k: &'a str, v: String| lines.push((k, v));
    if vm.agent.as_ref().is_some_and(|a| a.value) {
        push("agent", AGENT_ON.into());
    }
    if let Some(b) = &vm.balloon {
        push("balloon", b.value.to_string());
    }
    if let Some(b) = &vm.bios {
        push("bios", b.value.clone());
    }
    if let Some(order) = &vm.boot_order {
        push("boot", format!("order={}", order.value.join(";")));
    }
    if let Some(c) = &vm.cores {
        push("cores", c.value.to_string());
    }
    if let Some(c) = &vm.cpu {
        push("cpu", c.value.clone());
    }
    // Disks allocated so far on each storage.
    let mut allocated: BTreeMap<String, usize> = BTreeMap::new();
    let mut next = |storage: &str| {
        let n = allocated.entry(storage.to_string()).or_default();
        *n += 1;
        *n - 1
    };
    if let Some(efi) = &vm.efidisk
        && let Some(storage) = &efi.storage
    {
        let n = next(storage);
        push(
            "efidisk0",
            format!("{},efitype=4m", volume_name(host, storage, vmid, n, None)),
        );
    }
    for disk in &vm.disks {
        let volume = match (disk.role, &disk.storage) {
            (DiskRole::Cdrom, storage) => match storage {
                Some(s) => format!("{s}:{}", disk.volume.clone().unwrap_or_default()),
                None => disk.volume.clone().unwrap_or_else(|| "none".into()),
            },
            (_, Some(storage)) => volume_name(
                host,
                storage,
                vmid,
                next(storage),
                disk.format.as_ref().map(|f| f.value.as_str()),
            ),
            (_, None) => continue,
        };
        let mut value = vec![volume];
        value.extend(drive_options(disk, true));
        push(&disk.slot, value.join(","));
    }
    if let Some(ci) = &vm.cloud_init {
        // Proxmox writes the cloud-init image as qcow2 on file storages.
        let volume = volume(host, &ci.storage, vmid, "cloudinit", "qcow2");
        push(&ci.slot, format!("{volume},media=cdrom"));
        for (key, value) in cloud_init_options(ci) {
            push(key, value);
        }
    }
    if let Some(m) = &vm.machine {
        push("machine", m.value.clone());
    }
    if let Some(m) = &vm.memory_mib {
        push("memory", m.value.to_string());
    }
    if let Some(n) = &vm.name {
        push("name", n.value.clone());
    }
    for nic in &vm.nics {
        push(&nic.slot, nic_value(nic));
    }
    if let Some(n) = &vm.numa {
        push("numa", bool_flag(n.value));
    }
    if let Some(o) = &vm.onboot {
        push("onboot", bool_flag(o.value));
    }
    if let Some(o) = &vm.ostype {
        push("ostype", o.value.clone());
    }
    if let Some(s) = &vm.scsihw {
        push("scsihw", s.value.clone());
    }
    if vm.serial_console {
        push("serial0", "socket".into());
    }
    if let Some(s) = &vm.sockets {
        push("sockets", s.value.to_string());
    }
    if !vm.tags.is_empty() {
        push("tags", vm.tags.join(";"));
    }
    lines.sort_by(|a, b| a.0.cmp(b.0));
    lines
}

/// `qm set` allocation syntax: `STORAGE:SIZE_IN_GIB,options`.
fn allocation(disk: &Disk) -> Option<String> {
    if disk.role == DiskRole::Cdrom {
        let storage = disk.storage.as_ref()?;
        return Some(format!(
            "{storage}:{},media=cdrom",
            disk.volume.clone().unwrap_or_default()
        ));
    }
    let storage = disk.storage.as_ref()?;
    let gib = disk
        .size_mib
        .as_ref()
        .map_or(32, |s| s.value.div_ceil(1024));
    let mut parts = vec![format!("{storage}:{gib}")];
    parts.extend(drive_options(disk, false));
    Some(parts.join(","))
}

fn script_for(vm: &Vm) -> VmScript {
    let mut create = Vec::new();
    let mut arg = |flag, value: String| create.push((flag, ShellWord::quote(&value)));
    if let Some(n) = &vm.name {
        arg("name", n.value.clone());
    }
    for (flag, value) in [
        ("machine", vm.machine.as_ref().map(|f| f.value.clone())),
        ("bios", vm.bios.as_ref().map(|f| f.value.clone())),
        ("ostype", vm.ostype.as_ref().map(|f| f.value.clone())),
        ("cpu", vm.cpu.as_ref().map(|f| f.value.clone())),
        ("sockets", vm.sockets.as_ref().map(|f| f.value.to_string())),
        ("cores", vm.cores.as_ref().map(|f| f.value.to_string())),
        ("numa", vm.numa.as_ref().map(|f| bool_flag(f.value))),
        (
            "memory",
            vm.memory_mib.as_ref().map(|f| f.value.to_string()),
        ),
        ("balloon", vm.balloon.as_ref().map(|f| f.value.to_string())),
        ("scsihw", vm.scsihw.as_ref().map(|f| f.value.clone())),
        (
            "agent",
            vm.agent
                .as_ref()
                .filter(|a| a.value)
                .map(|_| AGENT_ON.to_string()),
        ),
        ("onboot", vm.onboot.as_ref().map(|f| bool_flag(f.value))),
    ] {
        if let Some(value) = value {
            arg(flag, value);
        }
    }
    if vm.serial_console {
        arg("serial0", "socket".into());
    }
    for nic in &vm.nics {
        arg(&nic.slot, nic_value(nic));
    }
    if !vm.tags.is_empty() {
        arg("tags", vm.tags.join(";"));
    }
    let mut sets = Vec::new();
    let mut set = |flag, value: String| sets.push((flag, ShellWord::quote(&value)));
    if let Some(storage) = vm.efidisk.as_ref().and_then(|e| e.storage.as_ref()) {
        set("efidisk0", format!("{storage}:1,efitype=4m"));
    }
    for disk in &vm.disks {
        if let Some(value) = allocation(disk) {
            set(&disk.slot, value);
        }
    }
    if let Some(ci) = &vm.cloud_init {
        set(&ci.slot, format!("{}:cloudinit", ci.storage));
        for (key, value) in cloud_init_options(ci) {
            set(key, value);
        }
    }
    if let Some(order) = &vm.boot_order {
        set("boot", format!("order={}", order.value.join(";")));
    }
    VmScript {
        label: Value::from(vm.label()),
        vmid: ShellWord::quote(&vm.vmid.as_ref().map_or(0, |v| v.value).to_string()).into(),
        create: pairs(create),
        sets: pairs(sets),
    }
}

/// The file name of a VM's config: `proxmox/101-cp-1.conf`.
pub fn conf_path(vm: &Vm) -> String {
    let vmid = vm.vmid.as_ref().map_or(0, |v| v.value);
    let name = vm.name.as_ref().map_or("vm", |n| n.value.as_str());
    format!("proxmox/{vmid}-{name}.conf")
}

pub fn conf(vm: &Vm, host: &Host, intent_file: &str) -> Result<String, String> {
    templates::render(
        "qm.conf",
        minijinja::context! { intent_file => intent_file, lines => pairs(conf_lines(vm, host)) },
    )
}

/// How many VMs' lines of `create-vms.sh` are rendered in one go on a worker. Rendered whole,
/// on one thread, the script of 1,000 VMs was the longest task of a build's emit (about
/// 30 ms, while the other worker rendered every `qm.conf` and Talos patch).
const SCRIPT_VMS_PER_PIECE: usize = 64;

/// `create-vms.sh`: its head, then each VM's lines, rendered a piece of VMs at a time on the
/// workers and joined in order (a VM's lines do not depend on the VMs around it). The first
/// piece that fails to render is the error.
pub fn create_script(vms: &[Vm], pve_node: &str, intent_file: &str) -> Result<String, String> {
    use rayon::prelude::*;
    let pieces: Vec<&[Vm]> = if vms.is_empty() {
        vec![vms]
    } else {
        vms.chunks(SCRIPT_VMS_PER_PIECE).collect()
    };
    let rendered: Vec<Result<String, String>> = crate::yaml::on_workers(|| {
        pieces
            .par_iter()
            .enumerate()
            .map(|(index, piece)| script_piece(piece, index == 0, pve_node, intent_file))
            .collect()
    });
    let mut script = String::new();
    for piece in rendered {
        script.push_str(&piece?);
    }
    Ok(script)
}

/// The lines of `create-vms.sh` for `vms`, after the script's head when `head` is set.
fn script_piece(
    vms: &[Vm],
    head: bool,
    pve_node: &str,
    intent_file: &str,
) -> Result<String, String> {
    let scripts: Value = vms
        .iter()
        .map(|vm| Value::from_object(script_for(vm)))
        .collect();
    templates::render(
        "create-vms.sh",
        minijinja::context! {
            head => head, intent_file => intent_file, node => pve_node, vms => scripts
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cluster;
    use crate::source::SourceFile;

    /// The VMs of the benchmark's intent of `nodes` nodes (vmids from 1000, in order).
    fn vms(nodes: usize) -> Vec<Vm> {
        let intent = crate::synthetic_tree::intent(nodes);
        let mut cluster = Cluster::default();
        let file = cluster
            .sources
            .add(SourceFile::new("cluster.yaml", intent.clone()));
        let loaded = crate::intent::load(file, &intent).expect("a valid intent");
        let (pinned, _) = crate::lower::pin_versions(&loaded).expect("known versions");
        crate::lower::lower(&loaded, &pinned, &mut cluster);
        cluster.vms
    }

    /// `create-vms.sh` is rendered in pieces of VMs and joined: the same bytes as the
    /// template rendered once over every VM (one head, then each VM in order).
    #[test]
    fn the_script_rendered_in_pieces_is_the_script_rendered_whole() {
        let vms = vms(2 * SCRIPT_VMS_PER_PIECE + 3);
        let script = create_script(&vms, "pve1", "cluster.yaml").expect("rendered");
        let whole = script_piece(&vms, true, "pve1", "cluster.yaml").expect("rendered");
        assert_eq!(script, whole);
        assert_eq!(script.matches("#!/usr/bin/env bash").count(), 1);
        let created: Vec<&str> = script
            .lines()
            .filter_map(|line| line.strip_prefix("  qm create "))
            .filter_map(|rest| rest.split(' ').next())
            .collect();
        let expected: Vec<String> = (0..vms.len()).map(|n| (1000 + n).to_string()).collect();
        assert_eq!(created, expected);
    }

    /// Without VMs the script is its head alone.
    #[test]
    fn the_script_of_no_vm_is_its_head() {
        let script = create_script(&[], "pve1", "cluster.yaml").expect("rendered");
        assert!(script.starts_with("#!/usr/bin/env bash\n"), "{script}");
        assert!(script.ends_with("set -euo pipefail\n"), "{script}");
    }
}
