//! Proxmox files into the model: `qm.conf` → [`Vm`], `storage.cfg` → [`Storage`],
//! `interfaces` → [`Bridge`].

use crate::intent::Role;
use crate::knowledge::proxmox::{self as pve_knowledge, Bus as DriveBus};
use crate::load::interfaces::Interfaces;
use crate::load::qmconf::{self, DriveVolume, Property, QmConfig, QmOption, QmSection};
use crate::load::storage_cfg::StorageCfg;
use crate::model::proxmox::{Bus, EfiDisk};
use crate::model::{Bridge, Disk, DiskRole, Nic, Storage, Vm};
use crate::source::{Fact, FileId, Location, Span};
use std::path::Path;

/// A VM from a parsed `qm.conf` (its main section: the VM's current configuration).
pub fn vm(file: FileId, path: &Path, config: &QmConfig) -> Vm {
    let mut vm = Vm::new(Location::file_start(file));
    vm.file = Some(file);
    vm.vmid = vmid_from_file_name(path).map(|id| Fact::new(id, Location::file_start(file)));
    let Some(main) = config.main() else { return vm };
    let reader = OptionReader {
        file,
        section: main,
    };
    vm.name = reader.string("name");
    vm.tags = reader
        .option("tags")
        .map(|o| {
            qmconf::split_list(&o.value, o.value_span)
                .iter()
                .map(|t| t.text.to_owned())
                .collect()
        })
        .unwrap_or_default();
    vm.role = role_from_tags(&vm.tags);
    vm.cpu = reader.default_property("cpu", "cputype");
    vm.args = reader.string("args");
    vm.sockets = reader.parsed("sockets", |v| v.parse().ok());
    vm.cores = reader.parsed("cores", |v| v.parse().ok());
    vm.memory_mib = reader.parsed("memory", qmconf::parse_memory);
    vm.balloon = reader.parsed("balloon", |v| v.parse().ok());
    vm.hotplug = reader
        .option("hotplug")
        .map(|o| reader.fact(hotplug_features(&o.value), o.value_span));
    vm.numa = reader.parsed("numa", qmconf::parse_bool);
    vm.scsihw = reader.string("scsihw");
    vm.bios = reader.string("bios");
    vm.machine = reader.string("machine");
    vm.ostype = reader.string("ostype");
    vm.boot_order = reader.option("boot").and_then(|o| {
        let order = qmconf::boot_order(&o.value, o.value_span)?;
        let span = span_of_tokens(&order).unwrap_or(o.value_span);
        Some(reader.fact(order.iter().map(|t| t.text.to_owned()).collect(), span))
    });
    vm.agent = reader.option("agent").and_then(|o| {
        let properties = o.properties();
        let enabled = qmconf::property(&properties, "enabled", Some("enabled"))?;
        Some(reader.fact(qmconf::parse_bool(enabled.value)?, enabled.value_span))
    });
    vm.onboot = reader.parsed("onboot", qmconf::parse_bool);
    for option in &main.options {
        reader.add_device(option, &mut vm);
    }
    vm
}

/// `101.conf` or `101-cp-1.conf` (talhorn's own naming) → 101.
fn vmid_from_file_name(path: &Path) -> Option<u32> {
    let stem = path.file_stem()?.to_str()?;
    let digits = stem.split('-').next()?;
    digits.parse().ok().filter(|id| *id >= 100)
}

fn role_from_tags(tags: &[String]) -> Option<Role> {
    tags.iter().find_map(|tag| match tag.as_str() {
        "controlplane" | "control-plane" => Some(Role::Controlplane),
        "worker" => Some(Role::Worker),
        _ => None,
    })
}

/// What a `hotplug` value enables: `1` is PVE's default set, `0` nothing.
fn hotplug_features(value: &str) -> Vec<String> {
    let mut features = Vec::new();
    for token in qmconf::split_list(value, Span::default()) {
        match token.text {
            "0" => {}
            "1" => features.extend(qmconf::HOTPLUG_DEFAULT.iter().map(|f| (*f).to_owned())),
            other => features.push(other.to_owned()),
        }
    }
    features
}

fn span_of_tokens(tokens: &[qmconf::Token<'_>]) -> Option<Span> {
    Some(Span::new(
        tokens.first()?.span.start,
        tokens.last()?.span.end,
    ))
}

struct OptionReader<'a> {
    file: FileId,
    section: &'a QmSection,
}

impl OptionReader<'_> {
    fn option(&self, key: &str) -> Option<&QmOption> {
        self.section.get(key)
    }

    fn fact<T>(&self, value: T, span: Span) -> Fact<T> {
        Fact::new(value, Location::new(self.file, span))
    }

    fn string(&self, key: &str) -> Option<Fact<String>> {
        self.option(key)
            .map(|o| self.fact(o.value.clone(), o.value_span))
    }

    fn parsed<T>(&self, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Fact<T>> {
        let option = self.option(key)?;
        Some(self.fact(parse(&option.value)?, option.value_span))
    }

    /// The default sub-option of a property string (`cpu: host,flags=...` → `host`).
    fn default_property(&self, key: &str, default_key: &str) -> Option<Fact<String>> {
        let properties = self.option(key)?.properties();
        let property = qmconf::property(&properties, default_key, Some(default_key))?;
        Some(self.fact(property.value.to_owned(), property.value_span))
    }

    fn add_device(&self, option: &QmOption, vm: &mut Vm) {
        if option.key.starts_with("serial") && pve_knowledge::option_kind(&option.key).is_some() {
            vm.serial_console = true;
        }
        if option.key.starts_with("net") && pve_knowledge::option_kind(&option.key).is_some() {
            if let Some(nic) = self.nic(option) {
                vm.nics.push(nic);
            }
            return;
        }
        match pve_knowledge::drive_bus(&option.key) {
            Some(DriveBus::Efidisk) => {
                let properties = option.properties();
                vm.efidisk = Some(EfiDisk {
                    storage: drive_file(&properties).and_then(|(storage, _)| storage),
                    at: Location::new(self.file, option.line),
                });
            }
            Some(_) => {
                if let Some(disk) = self.disk(option) {
                    vm.disks.push(disk);
                }
            }
            None => {}
        }
    }

    fn disk(&self, option: &QmOption) -> Option<Disk> {
        let bus = Bus::of_slot(&option.key)?;
        let properties = option.properties();
        let sub = |key: &str| qmconf::property(&properties, key, None);
        let (storage, volume) = drive_file(&properties).unwrap_or_default();
        let cdrom = sub("media").is_some_and(|p| p.value == "cdrom")
            || volume.as_deref().is_some_and(|v| v.ends_with("-cloudinit"));
        let file_property = qmconf::property(&properties, "file", Some("file"));
        let format = match sub("format") {
            Some(p) => Some(self.fact(p.value.to_owned(), p.value_span)),
            None => file_property.and_then(|p| {
                let format = qmconf::volname_format(p.value)?;
                Some(self.fact(format.to_owned(), p.value_span))
            }),
        };
        let size_mib = sub("size").and_then(|p| {
            let bytes = qmconf::parse_size(p.value)?;
            Some(self.fact(bytes / (1024 * 1024), p.value_span))
        });
        let boolean = |key: &str| {
            sub(key).and_then(|p| Some(self.fact(qmconf::parse_bool(p.value)?, p.value_span)))
        };
        Some(Disk {
            slot: option.key.clone(),
            bus,
            role: if cdrom {
                DiskRole::Cdrom
            } else {
                DiskRole::Other
            },
            storage,
            volume,
            format,
            size_mib,
            // `discard=ignore` (the default) passes no TRIM through.
            discard: sub("discard").map(|p| self.fact(p.value == "on", p.value_span)),
            iothread: boolean("iothread"),
            ssd: boolean("ssd"),
            serial: sub("serial").map(|p| self.fact(p.value.to_owned(), p.value_span)),
            at: Location::new(self.file, option.line),
        })
    }

    fn nic(&self, option: &QmOption) -> Option<Nic> {
        let properties = option.properties();
        let model = pve_knowledge::net_model(&properties)?;
        let sub = |key: &str| qmconf::property(&properties, key, None);
        Some(Nic {
            slot: option.key.clone(),
            model: self.fact(model.model.to_owned(), model.model_span),
            mac: model.mac.map(|(mac, span)| self.fact(mac.to_owned(), span)),
            bridge: sub("bridge").map(|p| self.fact(p.value.to_owned(), p.value_span)),
            mtu: sub("mtu").and_then(|p| Some(self.fact(p.value.parse().ok()?, p.value_span))),
            vlan: sub("tag").and_then(|p| p.value.parse().ok()),
            firewall: sub("firewall")
                .and_then(|p| qmconf::parse_bool(p.value))
                .unwrap_or(false),
            at: Location::new(self.file, option.line),
        })
    }
}

/// The storage ID and volume name of a drive's `file`.
fn drive_file(properties: &[Property]) -> Option<(Option<String>, Option<String>)> {
    let file = qmconf::property(properties, "file", Some("file"))?;
    Some(match qmconf::drive_volume(file.value) {
        DriveVolume::Storage { storage, volname } => {
            (Some(storage.to_owned()), Some(volname.to_owned()))
        }
        DriveVolume::Path(path) => (None, Some(path.to_owned())),
        DriveVolume::Empty | DriveVolume::HostCdrom | DriveVolume::Invalid(_) => (None, None),
    })
}

/// Gives each disk its role: the first disk in `boot: order` (or the first non-CD-ROM disk) is
/// the OS disk; a disk whose serial a Talos selector uses is the data disk, and so is every
/// further disk of a Longhorn storage node.
pub fn assign_disk_roles(vm: &mut Vm, selected_serials: &[String]) {
    let boot_disk = vm.boot_order.as_ref().and_then(|order| {
        order
            .value
            .iter()
            .find(|slot| {
                vm.disks
                    .iter()
                    .any(|d| &d.slot == *slot && d.role != DiskRole::Cdrom)
            })
            .cloned()
    });
    let os_slot = boot_disk.or_else(|| {
        vm.disks
            .iter()
            .find(|d| d.role != DiskRole::Cdrom)
            .map(|d| d.slot.clone())
    });
    let storage_node = vm.storage_node == Some(true);
    for disk in &mut vm.disks {
        if disk.role == DiskRole::Cdrom {
            continue;
        }
        let selected = disk
            .serial
            .as_ref()
            .is_some_and(|s| selected_serials.iter().any(|used| used == &s.value));
        disk.role = if os_slot.as_deref() == Some(disk.slot.as_str()) {
            DiskRole::Os
        } else if selected || storage_node {
            DiskRole::Data
        } else {
            DiskRole::Other
        };
    }
}

/// The storages of a `storage.cfg`, with ZFS backing derived for `dir` storages.
pub fn storages(file: FileId, cfg: &StorageCfg) -> Vec<Storage> {
    cfg.entries
        .iter()
        .map(|entry| {
            let get = |key: &str| entry.get(key).map(|p| p.value.clone());
            // Only a positive answer is a fact: a dir outside every zfspool storage may still
            // sit on a ZFS dataset that storage.cfg does not name.
            let on_zfs = cfg.is_on_zfs(entry).then(|| {
                let at = entry.get("path").map_or(entry.name_span, |p| p.value_span);
                Fact::new(true, Location::new(file, at))
            });
            Storage {
                name: Fact::new(entry.name.clone(), Location::new(file, entry.name_span)),
                kind: entry.kind.clone(),
                path: get("path"),
                pool: get("pool"),
                mountpoint: entry.zfs_mountpoint(),
                on_zfs,
            }
        })
        .collect()
}

/// The bridges of an `interfaces` file.
pub fn bridges(file: FileId, interfaces: &Interfaces) -> Vec<Bridge> {
    interfaces
        .ifaces
        .iter()
        .filter(|iface| iface.is_bridge)
        .map(|iface| Bridge {
            name: Fact::new(iface.name.clone(), Location::new(file, iface.name_span)),
            mtu: iface
                .mtu
                .map(|(mtu, span)| Fact::new(mtu, Location::new(file, span))),
        })
        .collect()
}
