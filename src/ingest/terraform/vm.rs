//! Proxmox VMs of Terraform / OpenTofu → [`Vm`]: `proxmox_virtual_environment_vm` (bpg/proxmox)
//! and `proxmox_vm_qemu` (Telmate/proxmox), with the same facts a `qm.conf` gives.
//!
//! An attribute the provider fills in when left out is set to the provider's default where it
//! differs from Proxmox's (both providers disable ballooning unless told otherwise; bpg picks
//! `virtio-scsi-pci` and `qemu64`, Telmate `host`), located at the resource. A written value
//! that cannot be known without running Terraform marks its field unknown ([`Vm::unknown`]),
//! so the rules that need it stay silent. `count` / `for_each` resources are one template VM.
//!
//! A bpg VM with a `clone` block keeps what its source VM has for every setting it leaves out:
//! bpg clones, then sends only the blocks written, and `bios`, `machine`, `scsi_hardware` only
//! when they differ from its defaults (its `vmCreateClone`; the provider's "Cloning"
//! documentation). Those fields are unknown, not the provider's defaults (a written default,
//! which bpg does not send either, is still taken as written).
//! A block it writes is sent whole, schema defaults included, so `cpu { cores = 2 }` on a clone
//! still means `qemu64`, and a written `disk` block's `discard` is its default when left out;
//! the source's other disks stay, so the disk list may be incomplete (`more_disks`). Telmate
//! sends its whole configuration, defaults included, after cloning: its defaults stand.

use super::hcl::{self, Attr, Eval, span_of};
use crate::intent::Role;
use crate::load::qmconf;
use crate::model::proxmox::{Bus, CloudInit, EfiDisk};
use crate::model::{Disk, DiskRole, Nic, Vm};
use crate::source::{Fact, FileId, Location, Span};
use crate::yaml::{Node, Value};
use hcl_edit::structure::{Block, Body};

/// Which provider's resource a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Bpg,
    Telmate,
}

impl Provider {
    pub fn of_resource(kind: &str) -> Option<Self> {
        match kind {
            "proxmox_virtual_environment_vm" => Some(Self::Bpg),
            "proxmox_vm_qemu" => Some(Self::Telmate),
            _ => None,
        }
    }
}

/// Reads one VM resource.
pub fn read(provider: Provider, eval: Eval<'_>, file: FileId, block: &Block) -> Vm {
    let labels = hcl::labels(block);
    let origin_span = block.labels.last().map_or(span_of(&block.ident), span_of);
    let mut reader = VmReader {
        eval,
        file,
        vm: Vm::new(Location::new(file, origin_span)),
        clone: provider == Provider::Bpg && is_clone(&block.body),
    };
    reader.vm.file = Some(file);
    match provider {
        Provider::Bpg => reader.bpg(&block.body),
        Provider::Telmate => reader.telmate(&block.body),
    }
    reader.vm.role = role_from_tags(&reader.vm.tags);
    // Without a written boot order the provider (not a `qm.conf`) decides it.
    if reader.vm.boot_order.is_none() {
        reader.vm.unknown.push("boot_order");
    }
    if reader.vm.name.is_none() {
        // A template VM (`count`, `for_each`) has no one name: the resource address stands in
        // for messages only (it joins no Talos node).
        let address = labels.join(".");
        reader.vm.name = Some(Fact::new(address, reader.vm.origin));
        reader.vm.unknown.push("name");
    }
    reader.vm
}

/// A bpg `clone` block, or a `dynamic "clone"` one (which may clone: unknown is the safe side).
fn is_clone(body: &Body) -> bool {
    body.get_blocks("clone").next().is_some()
        || body
            .get_blocks("dynamic")
            .any(|b| hcl::labels(b).first() == Some(&"clone"))
}

fn role_from_tags(tags: &[String]) -> Option<Role> {
    tags.iter().find_map(|tag| match tag.as_str() {
        "controlplane" | "control-plane" => Some(Role::Controlplane),
        "worker" => Some(Role::Worker),
        _ => None,
    })
}

struct VmReader<'a> {
    eval: Eval<'a>,
    file: FileId,
    vm: Vm,
    /// A bpg clone: what it leaves out comes from its source VM.
    clone: bool,
}

impl VmReader<'_> {
    fn at(&self, span: Span) -> Location {
        Location::new(self.file, span)
    }

    /// An attribute's node, recording `field` as unknown when written but not knowable.
    fn node(&mut self, body: &Body, key: &str, field: &'static str) -> Option<Node> {
        match self.eval.attr(body, key) {
            Attr::Known(node) if !matches!(node.value, Value::Null) => Some(node),
            Attr::Unknown => {
                self.vm.unknown.push(field);
                None
            }
            Attr::Known(_) | Attr::Absent => None,
        }
    }

    fn parsed<T>(
        &mut self,
        body: &Body,
        key: &str,
        field: &'static str,
        parse: impl Fn(&Node) -> Option<T>,
    ) -> Option<Fact<T>> {
        let node = self.node(body, key, field)?;
        match parse(&node) {
            Some(value) => Some(Fact::new(value, self.at(node.span))),
            None => {
                self.vm.unknown.push(field);
                None
            }
        }
    }

    fn text(&mut self, body: &Body, key: &str, field: &'static str) -> Option<Fact<String>> {
        self.parsed(body, key, field, Node::scalar_text)
    }

    fn number(&mut self, body: &Body, key: &str, field: &'static str) -> Option<Fact<u64>> {
        self.parsed(body, key, field, number)
    }

    fn flag(&mut self, body: &Body, key: &str, field: &'static str) -> Option<Fact<bool>> {
        self.parsed(body, key, field, flag)
    }

    /// A provider default that differs from Proxmox's, located at the resource.
    fn default<T>(&self, value: T) -> Fact<T> {
        Fact::new(value, self.vm.origin)
    }

    /// Marks `fields`, which the resource leaves out, as its source VM's when it is a clone.
    /// Returns whether it is one (then no provider default applies).
    fn inherited(&mut self, fields: &[&'static str]) -> bool {
        if self.clone {
            for field in fields {
                if !self.vm.is_unknown(field) {
                    self.vm.unknown.push(field);
                }
            }
        }
        self.clone
    }

    fn small(fact: Option<Fact<u64>>) -> Option<Fact<u32>> {
        let fact = fact?;
        Some(Fact::new(u32::try_from(fact.value).ok()?, fact.at))
    }

    fn bpg(&mut self, body: &Body) {
        self.vm.name = self.text(body, "name", "name");
        self.vm.vmid = Self::small(self.number(body, "vm_id", "vmid"));
        self.vm.tags = self.string_list(body, "tags", "tags");
        self.vm.scsihw = self.text(body, "scsi_hardware", "scsihw");
        if self.vm.scsihw.is_none() && !self.vm.is_unknown("scsihw") && !self.inherited(&["scsihw"])
        {
            self.vm.scsihw = Some(self.default("virtio-scsi-pci".into()));
        }
        self.vm.bios = self.text(body, "bios", "bios");
        if self.vm.bios.is_none() {
            self.inherited(&["bios"]);
        }
        self.vm.machine = self.text(body, "machine", "machine");
        if self.vm.machine.is_none() {
            self.inherited(&["machine"]);
        }
        self.vm.onboot = self.flag(body, "on_boot", "onboot");
        // Left out on a clone, `kvm_arguments` is the source's; it is taken as adding no CPU
        // flags (what nearly every VM has), so that a clone's written `cpu { type }` is judged.
        self.vm.args = self.text(body, "kvm_arguments", "args");
        self.vm.serial_console = body.get_blocks("serial_device").next().is_some();
        self.vm.boot_order = self.node(body, "boot_order", "boot_order").and_then(|n| {
            self.strings(&n)
                .map(|list| Fact::new(list, self.at(n.span)))
        });
        let cpu = body.get_blocks("cpu").next();
        match cpu {
            Some(cpu) => {
                self.vm.cpu = self.text(&cpu.body, "type", "cpu");
                self.vm.cores = Self::small(self.number(&cpu.body, "cores", "cores"));
                self.vm.sockets = Self::small(self.number(&cpu.body, "sockets", "sockets"));
                self.vm.numa = self.flag(&cpu.body, "numa", "numa");
                if self.vm.cpu.is_none() && !self.vm.is_unknown("cpu") {
                    self.vm.cpu = Some(Fact::new("qemu64".into(), self.at(span_of(&cpu.ident))));
                }
            }
            None => {
                if !self.inherited(&["cpu", "cores", "sockets", "numa"]) {
                    self.vm.cpu = Some(self.default("qemu64".into()));
                }
            }
        }
        let memory = body.get_blocks("memory").next();
        if let Some(memory) = memory {
            self.vm.memory_mib = self.number(&memory.body, "dedicated", "memory");
            self.vm.balloon = self.number(&memory.body, "floating", "balloon");
        } else {
            self.inherited(&["memory", "balloon"]);
        }
        // bpg's `floating` defaults to 0: no balloon device.
        if self.vm.balloon.is_none() && !self.vm.is_unknown("balloon") {
            self.vm.balloon = Some(self.default(0));
        }
        if let Some(agent) = body.get_blocks("agent").next() {
            self.vm.agent = self.flag(&agent.body, "enabled", "agent");
        } else {
            self.inherited(&["agent"]);
        }
        if let Some(os) = body.get_blocks("operating_system").next() {
            self.vm.ostype = self.text(&os.body, "type", "ostype");
        } else {
            self.inherited(&["ostype"]);
        }
        if let Some(efi) = body.get_blocks("efi_disk").next() {
            let storage = self.text(&efi.body, "datastore_id", "efidisk");
            self.vm.efidisk = Some(EfiDisk {
                storage: Some(storage.map_or_else(|| "local-lvm".to_owned(), |s| s.value)),
                at: self.at(span_of(&efi.ident)),
            });
        } else {
            self.inherited(&["efidisk"]);
        }
        self.dynamic_blocks(body, &["disk", "cdrom"], "disks");
        self.dynamic_blocks(body, &["network_device"], "nics");
        // A clone keeps its source's disks: those it writes are changed, the others stay.
        if body.get_blocks("disk").next().is_none() {
            self.inherited(&["disks"]);
        }
        self.inherited(&["more_disks"]);
        // Written network devices replace the source's (bpg deletes the rest).
        if body.get_blocks("network_device").next().is_none() {
            self.inherited(&["nics"]);
        }
        if body.get_blocks("initialization").next().is_none() {
            self.inherited(&["cloud_init"]);
        }
        for disk in body.get_blocks("disk") {
            if let Some(disk) = self.bpg_disk(&disk.body, span_of(&disk.ident)) {
                self.vm.disks.push(disk);
            }
        }
        for cdrom in body.get_blocks("cdrom") {
            let slot = self.text(&cdrom.body, "interface", "disks");
            let slot = slot.map_or_else(|| "ide3".to_owned(), |s| s.value);
            self.push_cdrom(&slot, None, span_of(&cdrom.ident));
        }
        if let Some(init) = body.get_blocks("initialization").next() {
            let slot = self.text(&init.body, "interface", "disks");
            let slot = slot.map_or_else(|| "ide2".to_owned(), |s| s.value);
            self.push_cdrom(&slot, Some("vm-cloudinit".into()), span_of(&init.ident));
            self.bpg_cloud_init(&init.body, slot, span_of(&init.ident));
        }
        for (index, nic) in body.get_blocks("network_device").enumerate() {
            if let Some(nic) = self.nic(&nic.body, index, span_of(&nic.ident), NicKeys::BPG) {
                self.vm.nics.push(nic);
            }
        }
    }

    /// `initialization { ip_config { ipv4 { address gateway } } dns { servers } }`: the
    /// cloud-init drive and the `ipconfig0` it writes.
    fn bpg_cloud_init(&mut self, init: &Body, slot: String, span: Span) {
        let ipv4 = init
            .get_blocks("ip_config")
            .next()
            .and_then(|c| c.body.get_blocks("ipv4").next());
        let mut parts = Vec::new();
        if let Some(ipv4) = ipv4 {
            let address = self.text(&ipv4.body, "address", "cloud_init");
            let gateway = self.text(&ipv4.body, "gateway", "cloud_init");
            parts.extend(address.map(|a| format!("ip={}", a.value)));
            parts.extend(gateway.map(|g| format!("gw={}", g.value)));
        }
        let servers = init.get_blocks("dns").next().and_then(|dns| {
            let node = self.node(&dns.body, "servers", "cloud_init")?;
            self.strings(&node)
        });
        let storage = self.text(init, "datastore_id", "cloud_init");
        let citype = match self
            .text(init, "type", "cloud_init")
            .as_ref()
            .map(|t| t.value.as_str())
        {
            Some("configdrive2") => "configdrive2",
            _ => "nocloud",
        };
        self.vm.cloud_init = Some(CloudInit {
            slot,
            storage: storage.map_or_else(|| "local-lvm".to_owned(), |s| s.value),
            citype,
            ipconfig0: parts.join(","),
            nameservers: servers.unwrap_or_default(),
            at: self.at(span),
        });
    }

    /// Telmate's `ipconfig0` and `nameserver`, on its `cloudinit` drive.
    fn telmate_cloud_init(&mut self, body: &Body) {
        let Some(ipconfig) = self.text(body, "ipconfig0", "cloud_init") else {
            return;
        };
        let drive = self
            .vm
            .disks
            .iter()
            .find(|d| d.volume.as_deref() == Some("vm-cloudinit"));
        let slot = drive.map_or_else(|| "ide2".to_owned(), |d| d.slot.clone());
        let storage = drive.and_then(|d| d.storage.clone()).unwrap_or_default();
        let nameservers = self
            .text(body, "nameserver", "cloud_init")
            .map(|n| n.value.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        self.vm.cloud_init = Some(CloudInit {
            slot,
            storage,
            // Proxmox's default for Linux guests.
            citype: "nocloud",
            ipconfig0: ipconfig.value,
            nameservers,
            at: ipconfig.at,
        });
    }

    fn dynamic_blocks(&mut self, body: &Body, names: &[&str], field: &'static str) {
        let dynamic = body
            .get_blocks("dynamic")
            .any(|b| hcl::labels(b).first().is_some_and(|l| names.contains(l)));
        if dynamic {
            self.vm.unknown.push(field);
        }
    }

    fn push_cdrom(&mut self, slot: &str, volume: Option<String>, span: Span) {
        if let Some(bus) = Bus::of_slot(slot) {
            let mut disk = self.empty_disk(slot.to_owned(), bus, span);
            disk.role = DiskRole::Cdrom;
            disk.volume = volume;
            self.vm.disks.push(disk);
        }
    }

    fn empty_disk(&self, slot: String, bus: Bus, span: Span) -> Disk {
        Disk::new(slot, bus, DiskRole::Other, self.at(span))
    }

    fn bpg_disk(&mut self, body: &Body, span: Span) -> Option<Disk> {
        let slot = match self.text(body, "interface", "disks") {
            Some(slot) => slot.value,
            None if self.vm.is_unknown("disks") => return None,
            None => "scsi0".to_owned(),
        };
        let Some(bus) = Bus::of_slot(&slot) else {
            self.vm.unknown.push("disks");
            return None;
        };
        let mut disk = self.empty_disk(slot, bus, span);
        disk.storage = Some(
            self.text(body, "datastore_id", "disks")
                .map_or_else(|| "local-lvm".to_owned(), |s| s.value),
        );
        disk.format = self.text(body, "file_format", "disk.format");
        disk.size_mib = self
            .number(body, "size", "disk.size")
            .map(|f| f.map(|gib| gib.saturating_mul(1024)));
        disk.discard = self.parsed(body, "discard", "disk.discard", |n| {
            Some(n.scalar_text()? == "on")
        });
        disk.iothread = self.flag(body, "iothread", "disk.iothread");
        disk.ssd = self.flag(body, "ssd", "disk.ssd");
        disk.serial = self.text(body, "serial", "disk.serial");
        Some(disk)
    }

    fn nic(&mut self, body: &Body, index: usize, span: Span, keys: NicKeys) -> Option<Nic> {
        let slot = match keys.id.and_then(|k| self.number(body, k, "nics")) {
            Some(id) => format!("net{}", id.value),
            None => format!("net{index}"),
        };
        let model = self
            .text(body, "model", "nics")
            .unwrap_or_else(|| Fact::new("virtio".into(), self.at(span)));
        let bridge = self.text(body, "bridge", "nic.bridge");
        let bridge = match (bridge, keys.default_bridge) {
            (None, Some(default)) if !self.vm.is_unknown("nic.bridge") => {
                Some(Fact::new(default.to_owned(), self.at(span)))
            }
            (bridge, _) => bridge,
        };
        Some(Nic {
            slot,
            model,
            mac: self.text(body, keys.mac, "nic.mac"),
            bridge,
            mtu: Self::small(self.number(body, "mtu", "nic.mtu")),
            vlan: self
                .number(body, keys.vlan, "nic.vlan")
                .and_then(|v| u16::try_from(v.value).ok()),
            firewall: self
                .flag(body, "firewall", "nic.firewall")
                .is_some_and(|f| f.value),
            at: self.at(span),
        })
    }

    fn string_list(&mut self, body: &Body, key: &str, field: &'static str) -> Vec<String> {
        let Some(node) = self.node(body, key, field) else {
            return Vec::new();
        };
        match &node.value {
            Value::Str(text) => text
                .split([';', ','])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => self.strings(&node).unwrap_or_default(),
        }
    }

    fn strings(&self, node: &Node) -> Option<Vec<String>> {
        node.as_seq()?.iter().map(Node::scalar_text).collect()
    }

    fn telmate(&mut self, body: &Body) {
        self.vm.name = self.text(body, "name", "name");
        self.vm.vmid = Self::small(self.number(body, "vmid", "vmid"));
        self.vm.tags = self.string_list(body, "tags", "tags");
        let cpu_block = body.get_blocks("cpu").next();
        let cpu_body = cpu_block.map_or(body, |b| &b.body);
        self.vm.cpu = match cpu_block {
            Some(block) => self.text(&block.body, "type", "cpu"),
            None => self
                .text(body, "cpu_type", "cpu")
                .or_else(|| self.text(body, "cpu", "cpu")),
        };
        // Telmate's CPU type defaults to `host`.
        if self.vm.cpu.is_none() && !self.vm.is_unknown("cpu") {
            self.vm.cpu = Some(self.default("host".into()));
        }
        self.vm.cores = Self::small(self.number(cpu_body, "cores", "cores"))
            .or_else(|| Self::small(self.number(body, "cores", "cores")));
        self.vm.sockets = Self::small(self.number(cpu_body, "sockets", "sockets"))
            .or_else(|| Self::small(self.number(body, "sockets", "sockets")));
        self.vm.numa = self
            .flag(cpu_body, "numa", "numa")
            .or_else(|| self.flag(body, "numa", "numa"));
        self.vm.memory_mib = self.number(body, "memory", "memory");
        self.vm.balloon = self.number(body, "balloon", "balloon");
        // Telmate's `balloon` defaults to 0: no balloon device.
        if self.vm.balloon.is_none() && !self.vm.is_unknown("balloon") {
            self.vm.balloon = Some(self.default(0));
        }
        self.vm.hotplug = self
            .text(body, "hotplug", "hotplug")
            .map(|f| f.map(|v| hotplug_features(&v)));
        self.vm.scsihw = self.text(body, "scsihw", "scsihw");
        self.vm.bios = self.text(body, "bios", "bios");
        self.vm.machine = self.text(body, "machine", "machine");
        self.vm.ostype = self.text(body, "qemu_os", "ostype");
        self.vm.onboot = self.flag(body, "onboot", "onboot");
        self.vm.args = self.text(body, "args", "args");
        self.vm.serial_console = body.get_blocks("serial").next().is_some();
        self.vm.agent = self.flag(body, "agent", "agent");
        self.vm.boot_order = self.text(body, "boot", "boot_order").and_then(|boot| {
            let order = qmconf::boot_order(&boot.value, Span::default())?;
            let order = order.iter().map(|t| t.text.to_owned()).collect();
            Some(Fact::new(order, boot.at))
        });
        if let Some(efi) = body.get_blocks("efidisk").next() {
            let storage = self.text(&efi.body, "storage", "efidisk");
            self.vm.efidisk = Some(EfiDisk {
                storage: storage.map(|s| s.value),
                at: self.at(span_of(&efi.ident)),
            });
        }
        self.dynamic_blocks(body, &["disk", "disks", "network"], "disks");
        self.dynamic_blocks(body, &["network"], "nics");
        for disks in body.get_blocks("disks") {
            self.telmate_disks(&disks.body);
        }
        for disk in body.get_blocks("disk") {
            self.telmate_v2_disk(&disk.body, span_of(&disk.ident));
        }
        self.telmate_cloud_init(body);
        for (index, nic) in body.get_blocks("network").enumerate() {
            if let Some(nic) = self.nic(&nic.body, index, span_of(&nic.ident), NicKeys::TELMATE) {
                self.vm.nics.push(nic);
            }
        }
    }

    /// Telmate 3: `disks { scsi { scsi0 { disk { ... } } } }`.
    fn telmate_disks(&mut self, disks: &Body) {
        for bus_block in disks.blocks() {
            for slot_block in bus_block.body.blocks() {
                let slot = slot_block.ident.as_str().to_owned();
                let Some(bus) = Bus::of_slot(&slot) else {
                    continue;
                };
                for kind in slot_block.body.blocks() {
                    let span = span_of(&slot_block.ident);
                    match kind.ident.as_str() {
                        "disk" | "passthrough" => {
                            let disk = self.telmate_disk(&kind.body, slot.clone(), bus, span);
                            self.vm.disks.push(disk);
                        }
                        "cdrom" => self.push_cdrom(&slot, None, span),
                        "cloudinit" => {
                            self.push_cdrom(&slot, Some("vm-cloudinit".into()), span);
                            let storage = self.text(&kind.body, "storage", "cloud_init");
                            if let Some(drive) = self.vm.disks.last_mut() {
                                drive.storage = storage.map(|s| s.value);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Telmate 2: `disk { slot = "scsi0" (or 0 with `type = "scsi"`) ... }`.
    fn telmate_v2_disk(&mut self, body: &Body, span: Span) {
        let kind = self.text(body, "type", "disks").map(|t| t.value);
        let slot = self.text(body, "slot", "disks").map(|s| s.value);
        let slot = match (slot, kind.as_deref()) {
            (Some(slot), Some(bus @ ("scsi" | "virtio" | "sata" | "ide")))
                if slot.bytes().all(|b| b.is_ascii_digit()) =>
            {
                format!("{bus}{slot}")
            }
            (Some(slot), _) => slot,
            (None, _) => {
                self.vm.unknown.push("disks");
                return;
            }
        };
        let Some(bus) = Bus::of_slot(&slot) else {
            self.vm.unknown.push("disks");
            return;
        };
        match kind.as_deref() {
            Some("cdrom") => self.push_cdrom(&slot, None, span),
            Some("cloudinit") => self.push_cdrom(&slot, Some("vm-cloudinit".into()), span),
            _ => {
                let disk = self.telmate_disk(body, slot, bus, span);
                self.vm.disks.push(disk);
            }
        }
    }

    fn telmate_disk(&mut self, body: &Body, slot: String, bus: Bus, span: Span) -> Disk {
        let mut disk = self.empty_disk(slot, bus, span);
        disk.storage = self.text(body, "storage", "disks").map(|s| s.value);
        disk.volume = self.text(body, "file", "disks").map(|s| s.value);
        disk.format = self.text(body, "format", "disk.format");
        disk.size_mib = self.parsed(body, "size", "disk.size", |n| match &n.value {
            Value::Int(gib) => u64::try_from(*gib).ok().map(|g| g.saturating_mul(1024)),
            _ => {
                let text = n.scalar_text()?;
                let bytes = qmconf::parse_size(&text)?;
                Some(bytes / (1024 * 1024))
            }
        });
        disk.discard = self.parsed(body, "discard", "disk.discard", |n| {
            match n.scalar_text()?.as_str() {
                "on" | "true" | "1" => Some(true),
                "ignore" | "off" | "false" | "0" => Some(false),
                _ => None,
            }
        });
        disk.iothread = self.flag(body, "iothread", "disk.iothread");
        disk.ssd = self
            .flag(body, "emulatessd", "disk.ssd")
            .or_else(|| self.flag(body, "ssd", "disk.ssd"));
        disk.serial = self.text(body, "serial", "disk.serial");
        disk
    }
}

/// How each provider names NIC attributes.
#[derive(Clone, Copy)]
struct NicKeys {
    id: Option<&'static str>,
    mac: &'static str,
    vlan: &'static str,
    default_bridge: Option<&'static str>,
}

impl NicKeys {
    const BPG: Self = Self {
        id: None,
        mac: "mac_address",
        vlan: "vlan_id",
        default_bridge: Some("vmbr0"),
    };
    const TELMATE: Self = Self {
        id: Some("id"),
        mac: "macaddr",
        vlan: "tag",
        default_bridge: None,
    };
}

fn number(node: &Node) -> Option<u64> {
    match &node.value {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `true`, `1`, `"on"` and their opposites.
fn flag(node: &Node) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::Int(0) => Some(false),
        Value::Int(1) => Some(true),
        Value::Str(s) => qmconf::parse_bool(s).or(match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
        _ => None,
    }
}

/// What a `hotplug` value enables: `1` is PVE's default set, `0` nothing.
fn hotplug_features(value: &str) -> Vec<String> {
    let mut features = Vec::new();
    for token in value.split(',').map(str::trim) {
        match token {
            "0" | "" => {}
            "1" => features.extend(qmconf::HOTPLUG_DEFAULT.iter().map(|f| (*f).to_owned())),
            other => features.push(other.to_owned()),
        }
    }
    features
}
