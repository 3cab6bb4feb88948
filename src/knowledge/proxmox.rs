//! What a `qm.conf` may contain: every key, its index range, value type, sub-options per bus,
//! enums and the PVE 8 / PVE 9 differences — and a validator over a parsed config.
//!
//! The table (`data/proxmox/qm_options.rs`) is derived from
//! `shared/upstream/proxmox/qm-options.json` by `tools/derive-qm-options.py`;
//! `tests/proxmox_parse.rs` fails when it drifts. Behaviour the table cannot express (aliases,
//! placeholder enums, bus restrictions found in code) is written out below with its source.

use crate::fast_hash::FastMap;
use crate::finding::{Finding, Severity};
use crate::load::qmconf::{
    self, DriveVolume, Property, QmConfig, QmOption, QmProblem, QmProblemKind, SectionKind,
};
use crate::source::{FileId, Location, Span};
use std::sync::LazyLock;

/// The type of a key's or sub-option's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueSpec {
    /// `1|on|yes|true` / `0|off|no|false`.
    Boolean,
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
    },
    Enum(&'static [&'static str]),
    /// A list (`,`, `;` or whitespace separated) of these tokens (`hotplug`).
    TokenList(&'static [&'static str]),
    /// Free text, with the upstream format name or pattern when there is one.
    Text(Option<&'static str>),
    /// Comma-separated `key=value` sub-options (see [`KeySpec::subs`]).
    PropertyString,
    /// Written by PVE itself (`meta`, `parent`, `snaptime`, …): not validated.
    Internal,
}

/// Which PVE major versions accept a key or sub-option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Both,
    Pve9Only,
    /// Accepted by PVE 8, silently dropped by PVE 9 (drive `cyls`, `heads`, `secs`, `trans`).
    Pve8Only,
}

impl Availability {
    /// Whether PVE `pve` accepts it; an unknown version accepts what either accepts.
    pub const fn on(self, pve: Option<u8>) -> bool {
        !matches!(
            (self, pve),
            (Self::Pve9Only, Some(8)) | (Self::Pve8Only, Some(9))
        )
    }

    fn explain(self) -> &'static str {
        match self {
            Self::Both => "",
            Self::Pve9Only => "it was added in PVE 9 and PVE 8 rejects it",
            Self::Pve8Only => "PVE 9 dropped it and silently ignores it",
        }
    }
}

/// One qm.conf key, or a family of indexed keys (`scsi[n]` has `name: "scsi"`).
#[derive(Debug, PartialEq)]
pub struct KeySpec {
    pub name: &'static str,
    /// Inclusive index range of an indexed family; `None` for a single key (`efidisk0` too).
    pub index: Option<(u16, u16)>,
    pub value: ValueSpec,
    pub default: Option<&'static str>,
    /// The sub-option a bare value belongs to (`file` for drives, `model` for NICs, …).
    pub default_key: Option<&'static str>,
    pub availability: Availability,
    pub subs: &'static [SubSpec],
}

/// One sub-option of a property-string key.
#[derive(Debug, PartialEq)]
pub struct SubSpec {
    pub name: &'static str,
    pub value: ValueSpec,
    pub default: Option<&'static str>,
    pub availability: Availability,
}

impl KeySpec {
    /// The name as qm-options.json writes it: `scsi[n]` for a family.
    pub fn table_name(&self) -> String {
        match self.index {
            Some(_) => format!("{}[n]", self.name),
            None => self.name.to_owned(),
        }
    }

    pub fn sub(&self, name: &str) -> Option<&'static SubSpec> {
        self.subs.iter().find(|s| s.name == name)
    }
}

include!("../../data/proxmox/qm_options.rs");

/// Every key of the table, sorted by name.
pub fn keys() -> &'static [KeySpec] {
    KEYS
}

/// The CPU types without the x86-64-v2 level Talos needs (research §2: kvm64 is x86-64-v1;
/// qemu64 and the 32-bit siblings likewise). `kvm64` is also what an absent `cpu` means.
pub const CPU_TYPES_WITHOUT_X86_64_V2: [&str; 4] = ["kvm64", "qemu64", "kvm32", "qemu32"];

/// What PVE runs when `cpu` is absent (x86_64 with KVM).
pub const DEFAULT_CPU_TYPE: &str = "kvm64";

/// The PVE-defined CPU models (`x86-64-v2-AES`, …).
pub fn builtin_cpu_models() -> &'static [&'static str] {
    BUILTIN_PVE_CPU_MODELS
}

/// Whether `cputype` names a CPU model PVE can start: a PVE model, a QEMU model (the
/// `reported-model` list) or a `custom-` model from cpu-models.conf.
pub fn is_known_cpu_type(cputype: &str) -> bool {
    cputype.starts_with("custom-")
        || BUILTIN_PVE_CPU_MODELS.contains(&cputype)
        || qemu_cpu_models().contains(&cputype)
}

fn qemu_cpu_models() -> &'static [&'static str] {
    sub_enum("cpu", "reported-model")
}

/// The CPU flags a VM config may toggle with `cpu: …,flags=+x;-y` on that PVE version.
pub fn cpu_vm_flags(pve: Option<u8>) -> Vec<&'static str> {
    match pve {
        Some(8) => CPU_VM_FLAGS_PVE8.to_vec(),
        Some(_) => CPU_VM_FLAGS_PVE9.to_vec(),
        None => {
            let mut flags: Vec<_> = CPU_VM_FLAGS_PVE8
                .iter()
                .chain(CPU_VM_FLAGS_PVE9)
                .copied()
                .collect();
            flags.sort_unstable();
            flags.dedup();
            flags
        }
    }
}

/// The NIC models of `netN` (`virtio`, `e1000`, …).
pub fn nic_models() -> &'static [&'static str] {
    sub_enum("net", "model")
}

fn sub_enum(key: &str, sub: &str) -> &'static [&'static str] {
    match KEYS
        .iter()
        .find(|k| k.name == key)
        .and_then(|k| k.sub(sub))
        .map(|s| s.value)
    {
        Some(ValueSpec::Enum(values)) => values,
        _ => &[],
    }
}

/// A key resolved against the table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptionRef {
    pub spec: &'static KeySpec,
    /// The index of an indexed key (`3` for `scsi3`).
    pub index: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyLookup {
    Known(OptionRef),
    /// The family exists but not this index (`scsi31`).
    IndexOutOfRange {
        spec: &'static KeySpec,
    },
    Unknown,
}

/// Resolve a key such as `scsi3`, `numa`, `numa0` or `efidisk0`.
pub fn lookup_key(key: &str) -> KeyLookup {
    if let Some(spec) = named(key).find(|k| k.index.is_none()) {
        return KeyLookup::Known(OptionRef { spec, index: None });
    }
    let (family, digits) = key.split_at(key.trim_end_matches(|c: char| c.is_ascii_digit()).len());
    let canonical_number = !digits.is_empty() && (digits == "0" || !digits.starts_with('0'));
    if !canonical_number {
        return KeyLookup::Unknown;
    }
    let Some(spec) = named(family).find(|k| k.index.is_some()) else {
        return KeyLookup::Unknown;
    };
    match (digits.parse::<u16>(), spec.index) {
        (Ok(index), Some((low, high))) if (low..=high).contains(&index) => {
            KeyLookup::Known(OptionRef {
                spec,
                index: Some(index),
            })
        }
        _ => KeyLookup::IndexOutOfRange { spec },
    }
}

/// The entries named `name` (a key and a family may share it: `numa`, `numa[n]`), in table
/// order. Looked up in an index made once: every option of every VM config is looked up, most
/// twice (`scsi0`, then the family `scsi`), and a binary search over the names cost about
/// 1.5 % of a large lint.
fn named(name: &str) -> impl Iterator<Item = &'static KeySpec> {
    static BY_NAME: LazyLock<FastMap<&'static str, Vec<&'static KeySpec>>> = LazyLock::new(|| {
        let mut by_name: FastMap<&'static str, Vec<&'static KeySpec>> = FastMap::default();
        for spec in KEYS {
            by_name.entry(spec.name).or_default().push(spec);
        }
        by_name
    });
    BY_NAME.get(name).into_iter().flatten().copied()
}

/// The table entry for a key, when the key is valid.
pub fn option_kind(key: &str) -> Option<OptionRef> {
    match lookup_key(key) {
        KeyLookup::Known(found) => Some(found),
        _ => None,
    }
}

/// The bus of a drive key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bus {
    Ide,
    Sata,
    Scsi,
    Virtio,
    Efidisk,
    Tpmstate,
    /// `unusedN`: a detached volume, not attached to the VM.
    Unused,
}

/// The bus of a valid drive key (`scsi0` → Scsi, `efidisk0` → Efidisk); `None` otherwise.
pub fn drive_bus(key: &str) -> Option<Bus> {
    let found = option_kind(key)?;
    Some(match found.spec.name {
        "ide" => Bus::Ide,
        "sata" => Bus::Sata,
        "scsi" => Bus::Scsi,
        "virtio" => Bus::Virtio,
        "efidisk0" => Bus::Efidisk,
        "tpmstate0" => Bus::Tpmstate,
        "unused" => Bus::Unused,
        _ => return None,
    })
}

/// Whether `key` is a drive (including `efidisk0`, `tpmstate0` and detached `unusedN`).
pub fn is_drive_key(key: &str) -> bool {
    drive_bus(key).is_some()
}

/// A NIC's model and MAC address, from `virtio=BC:24:11:..` or `model=virtio,macaddr=..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetModel<'a> {
    pub model: &'a str,
    pub model_span: Span,
    pub mac: Option<(&'a str, Span)>,
}

/// The model of a `netN` value's properties.
pub fn net_model<'a>(properties: &[Property<'a>]) -> Option<NetModel<'a>> {
    let models = nic_models();
    let alias = properties
        .iter()
        .find(|p| p.key.is_some_and(|k| models.contains(&k)));
    if let Some(p) = alias {
        return Some(NetModel {
            model: p.key.unwrap_or_default(),
            model_span: p.key_span,
            mac: Some((p.value, p.value_span)),
        });
    }
    let model = qmconf::property(properties, "model", Some("model"))?;
    let mac = qmconf::property(properties, "macaddr", None).map(|p| (p.value, p.value_span));
    Some(NetModel {
        model: model.value,
        model_span: model.value_span,
        mac,
    })
}

/// Validate a parsed qm.conf against the option table. `pve` is the target PVE major version
/// (8 or 9; `None` when unknown: accept what either accepts).
pub fn validate(file: FileId, cfg: &QmConfig, pve: Option<u8>) -> Vec<Finding> {
    let mut validator = Validator {
        file,
        pve,
        findings: Vec::new(),
    };
    for problem in &cfg.problems {
        validator.problem(problem);
    }
    for section in &cfg.sections {
        for option in &section.options {
            validator.option(option, &section.kind);
        }
    }
    let mut findings = validator.findings;
    findings.sort_by_key(|f| f.at.span.start);
    findings
}

struct Validator {
    file: FileId,
    pve: Option<u8>,
    findings: Vec<Finding>,
}

const SECTION_NAMES: [&str; 3] = ["PENDING", "special:cloudinit", "special:fleecing"];

impl Validator {
    fn at(&self, span: Span) -> Location {
        Location::new(self.file, span)
    }

    fn finding(
        &self,
        code: &'static str,
        severity: Severity,
        span: Span,
        message: String,
    ) -> Finding {
        Finding::new(code, severity, self.at(span), message)
    }

    fn unknown(&mut self, span: Span, message: String, help: &str) {
        let finding = self
            .finding("INT002", Severity::Error, span, message)
            .help(help);
        self.findings.push(finding);
    }

    fn invalid(&mut self, span: Span, message: String) {
        let finding = self.finding("INT003", Severity::Error, span, message);
        self.findings.push(finding);
    }

    fn problem(&mut self, problem: &QmProblem) {
        let message = problem.message.clone();
        let finding = match &problem.kind {
            QmProblemKind::Syntax => self.finding("INT001", Severity::Error, problem.span, message),
            QmProblemKind::InlineComment => self.finding("PVE017", Severity::Error, problem.span, message),
            QmProblemKind::DuplicateKey { first } => self
                .finding("PVE018", Severity::Warning, problem.span, message)
                .related(self.at(*first), "first set here"),
            QmProblemKind::UnknownSection { name } => {
                let message = match did_you_mean(name, SECTION_NAMES) {
                    Some(known) => format!("{message}; did you mean `[{known}]`?"),
                    None => message,
                };
                self.finding("INT002", Severity::Error, problem.span, message)
                    .help("rename the section or remove it with its lines")
            }
            QmProblemKind::DuplicateSection { first } => self
                .finding("INT001", Severity::Error, problem.span, message)
                .related(self.at(*first), "first defined here"),
            QmProblemKind::DeleteOutsidePending => self
                .finding("INT002", Severity::Error, problem.span, message)
                .help("`delete:` lists keys PVE will remove at the next start; it belongs in [PENDING]"),
        };
        self.findings.push(finding);
    }

    fn option(&mut self, option: &QmOption, section: &SectionKind) {
        if matches!(section, SectionKind::Special(name) if name == "fleecing") {
            return self.fleecing_option(option);
        }
        let Some(found) = self.resolve_key(option, section) else {
            return;
        };
        if let Some(reason) = section_restriction(&option.key, section) {
            return self.unknown(option.key_span, reason, "remove the line");
        }
        let availability = found.spec.availability;
        if !availability.on(self.pve) {
            return self.version_mismatch(
                option.key_span,
                &format!("`{}`", option.key),
                availability,
            );
        }
        // PVE keeps an inline comment in the value; PVE017 already says so, and the value
        // errors it causes would only repeat it.
        let cloudinit_copy = matches!(section, SectionKind::Special(name) if name == "cloudinit");
        if option.inline_comment().is_some() || cloudinit_copy {
            return;
        }
        if option.key == "delete" {
            return self.delete_list(option);
        }
        self.value(option, found);
    }

    /// `[special:fleecing]` only holds PVE's own `fleecing-images` bookkeeping.
    fn fleecing_option(&mut self, option: &QmOption) {
        if option.key != "fleecing-images" {
            self.unknown(
                option.key_span,
                format!("`{}` does not belong in [special:fleecing], which only holds `fleecing-images`", option.key),
                "remove the line",
            );
        }
    }

    fn resolve_key(&mut self, option: &QmOption, section: &SectionKind) -> Option<OptionRef> {
        match lookup_key(&option.key) {
            KeyLookup::Known(found) => Some(found),
            KeyLookup::IndexOutOfRange { spec } => {
                let (low, high) = spec.index.unwrap_or_default();
                self.invalid(
                    option.key_span,
                    format!(
                        "`{}` is out of range: `{}` keys are numbered {low} to {high}",
                        option.key, spec.name
                    ),
                );
                None
            }
            KeyLookup::Unknown => {
                let suggestion = did_you_mean_key(&option.key, section);
                let mut message = format!("unknown qm.conf key `{}`", option.key);
                if let Some(s) = suggestion {
                    message.push_str(&format!("; did you mean `{s}`?"));
                }
                self.unknown(
                    option.key_span,
                    message,
                    "PVE warns `unknown setting` and drops the line, so it has no effect; fix the \
                     key or remove the line",
                );
                None
            }
        }
    }

    fn version_mismatch(&mut self, span: Span, what: &str, availability: Availability) {
        let pve = self.pve.unwrap_or_default();
        self.unknown(
            span,
            format!(
                "{what} is not available on PVE {pve}: {}",
                availability.explain()
            ),
            "remove it, or target the PVE version that has it",
        );
    }

    /// `delete: a,b` in [PENDING] must name real keys.
    fn delete_list(&mut self, option: &QmOption) {
        for token in qmconf::split_list(&option.value, option.value_span) {
            if matches!(lookup_key(token.text), KeyLookup::Unknown) {
                self.unknown(
                    token.span,
                    format!("`delete:` lists `{}`, which is no qm.conf key", token.text),
                    "list only keys that exist",
                );
            }
        }
    }

    fn value(&mut self, option: &QmOption, found: OptionRef) {
        let key = option.key.as_str();
        let spec = found.spec;
        match spec.value {
            ValueSpec::PropertyString => self.properties(option, spec),
            ValueSpec::Text(_) => self.text(key, spec.name, &option.value, option.value_span),
            ValueSpec::TokenList(allowed) => {
                self.tokens(key, &option.value, option.value_span, allowed)
            }
            scalar => self.scalar(
                || format!("`{key}`"),
                &option.value,
                option.value_span,
                scalar,
            ),
        }
    }

    /// Check a boolean, number or enum value; `what` names it in the message (made only for a
    /// message: most values are fine).
    fn scalar(&mut self, what: impl Fn() -> String, value: &str, span: Span, spec: ValueSpec) {
        let problem = match spec {
            ValueSpec::Boolean => qmconf::parse_bool(value).is_none().then(|| {
                "expects a boolean: 1 or 0 (on/off, yes/no, true/false are accepted)".to_owned()
            }),
            ValueSpec::Integer { min, max } => integer_problem(value, min, max),
            ValueSpec::Number { min, max } => number_problem(value, min, max),
            ValueSpec::Enum(values) if !values.contains(&value) => {
                let mut text = format!("expects one of {}", values.join(", "));
                if let Some(s) = did_you_mean(value, values.iter().copied()) {
                    text.push_str(&format!("; did you mean `{s}`?"));
                }
                Some(text)
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.invalid(
                span,
                format!("{} has invalid value `{value}`: {problem}", what()),
            );
        }
    }

    fn tokens(&mut self, key: &str, value: &str, span: Span, allowed: &[&str]) {
        for token in qmconf::split_list(value, span) {
            if !allowed.contains(&token.text) {
                let mut message = format!(
                    "`{key}` has invalid token `{}`: expected a list of {}",
                    token.text,
                    allowed.join(", ")
                );
                if let Some(s) = did_you_mean(token.text, allowed.iter().copied()) {
                    message.push_str(&format!("; did you mean `{s}`?"));
                }
                self.invalid(token.span, message);
            }
        }
    }

    /// Free-text keys whose format upstream checks.
    fn text(&mut self, key: &str, family: &str, value: &str, span: Span) {
        let problem = match family {
            "name" => (!is_dns_name(value)).then_some(
                "expects a DNS name: letters, digits and `-`, dot-separated labels (no `_` or spaces)",
            ),
            "serial" => (!(value == "socket" || value.len() > 5 && value.starts_with("/dev/")))
                .then_some("expects `socket` or a host device `/dev/...`"),
            "bootdisk" => (!is_bootdisk(value)).then_some("expects a disk key such as `scsi0`"),
            "tags" => {
                for tag in qmconf::split_list(value, span) {
                    if !is_tag(tag.text) {
                        self.invalid(
                            tag.span,
                            format!(
                                "`tags` has invalid tag `{}`: a tag starts with a letter, digit or `_` \
                                 and contains only letters, digits and `_-+.`",
                                tag.text
                            ),
                        );
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.invalid(
                span,
                format!("`{key}` has invalid value `{value}`: {problem}"),
            );
        }
    }

    fn properties(&mut self, option: &QmOption, spec: &'static KeySpec) {
        let properties = option.properties();
        let mut seen: Vec<&str> = Vec::new();
        for property in &properties {
            let Some(name) = self.property_name(option, spec, property) else {
                continue;
            };
            if seen.contains(&name) {
                self.invalid(
                    property.key_span,
                    format!("`{}` sets `{name}` twice; keep one", option.key),
                );
                continue;
            }
            seen.push(name);
            if name == NET_MODEL_ALIAS {
                self.mac(&option.key, property.value, property.value_span);
                continue;
            }
            if let Some(sub) = spec.sub(name) {
                self.property_value(option, spec, sub, property);
            }
        }
    }

    /// The sub-option a property sets (after aliases), or `None` after reporting why it is
    /// not one.
    fn property_name(
        &mut self,
        option: &QmOption,
        spec: &'static KeySpec,
        property: &Property,
    ) -> Option<&'static str> {
        let Some(key) = property.key else {
            return match spec.default_key {
                Some(default) => spec.sub(default).map(|s| s.name),
                None => {
                    self.invalid(
                        property.value_span,
                        format!(
                            "`{}` has a value without a key (`{}`), but this option has no default \
                             sub-option; write `name=value`",
                            option.key, property.value
                        ),
                    );
                    None
                }
            };
        };
        if key.is_empty() || property.value.is_empty() {
            self.invalid(
                property.key_span,
                format!(
                    "`{}` has a malformed part `{key}={}`: write `name=value`",
                    option.key, property.value
                ),
            );
            return None;
        }
        if spec.name == "net" && nic_models().contains(&key) {
            return Some(NET_MODEL_ALIAS);
        }
        let resolved = if key == "volume" && spec.default_key == Some("file") {
            "file"
        } else {
            key
        };
        match spec.sub(resolved).filter(|s| s.name != NET_MODEL_ALIAS) {
            Some(sub) if sub.availability.on(self.pve) => Some(sub.name),
            Some(sub) => {
                let what = format!("`{key}` in `{}`", option.key);
                self.version_mismatch(property.key_span, &what, sub.availability);
                None
            }
            None => {
                self.unknown_sub(option, spec, property, key);
                None
            }
        }
    }

    fn unknown_sub(&mut self, option: &QmOption, spec: &KeySpec, property: &Property, key: &str) {
        let candidates = spec
            .subs
            .iter()
            .filter(|s| s.name != NET_MODEL_ALIAS && s.availability.on(self.pve))
            .map(|s| s.name);
        let mut message = format!("`{}` has no sub-option `{key}`", option.key);
        if let Some(s) = did_you_mean(key, candidates) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        let buses_with_it: Vec<&str> = KEYS
            .iter()
            .filter(|k| {
                matches!(k.name, "ide" | "sata" | "scsi" | "virtio") && k.sub(key).is_some()
            })
            .map(|k| k.name)
            .collect();
        if is_drive_key(&option.key) && !buses_with_it.is_empty() {
            message.push_str(&format!(
                " (only {} disks have it; attach the disk on such a bus to use it)",
                buses_with_it.join(", ")
            ));
        }
        let help = if key == "import-from" {
            "`import-from=` only works through `qm create`/`qm set`, not inside a .conf file"
        } else if is_drive_key(&option.key) {
            "PVE cannot parse the drive and drops it from the VM; remove or fix the sub-option"
        } else {
            "PVE rejects the whole value; remove or fix the sub-option"
        };
        self.unknown(property.key_span, message, help);
    }

    fn property_value(
        &mut self,
        option: &QmOption,
        spec: &KeySpec,
        sub: &SubSpec,
        property: &Property,
    ) {
        let what = || format!("`{}` of `{}`", sub.name, option.key);
        let (value, span) = (property.value, property.value_span);
        match (spec.name, sub.name) {
            // The table's enum for these lists placeholders, not values.
            ("cpu", "phys-bits") => {
                let bits_ok = value.parse::<u8>().is_ok_and(|b| (8..=64).contains(&b));
                if !(bits_ok || value == "host") {
                    self.invalid(span, format!("{} has invalid value `{value}`: expects 8 to 64 or `host`", what()));
                }
            }
            ("usb", "host") => {}
            ("cpu", "reported-model") => self.invalid(
                property.key_span,
                "`reported-model` is not allowed in a VM config, only in cpu-models.conf; use the \
                 CPU type itself (`cpu: host`)"
                    .to_owned(),
            ),
            ("cpu", "cputype") => self.cputype(value, span),
            ("cpu", "flags") => self.cpu_flags(value, span),
            ("virtio", "media") if value == "cdrom" => self.invalid(
                span,
                format!("`{}` cannot be a CD-ROM: VirtIO block devices have no media=cdrom; use ideN or sataN", option.key),
            ),
            ("boot", "legacy") => {
                if !is_legacy_boot(value) {
                    self.invalid(
                        span,
                        format!(
                            "`boot: {value}` is read as the legacy form, which only accepts 1-4 of the \
                             letters a, c, d, n; write `boot: order={value}`"
                        ),
                    );
                }
            }
            ("boot", "order") => self.boot_order(value, span),
            ("net", "macaddr") => self.mac(&option.key, value, span),
            (_, "file") => self.volume(&option.key, value, span),
            _ => match sub.value {
                ValueSpec::Text(Some("DiskSize")) => {
                    if qmconf::parse_size(value).is_none() {
                        self.invalid(
                            span,
                            format!("{} has invalid value `{value}`: expects a size such as `32G`, `4M` or `528K`", what()),
                        );
                    }
                }
                scalar => self.scalar(what, value, span, scalar),
            },
        }
    }

    fn cputype(&mut self, value: &str, span: Span) {
        if is_known_cpu_type(value) {
            return;
        }
        let candidates = BUILTIN_PVE_CPU_MODELS
            .iter()
            .chain(qemu_cpu_models())
            .copied();
        let mut message = format!("unknown CPU type `{value}` (add `custom-` for a custom model)");
        if let Some(s) = did_you_mean(value, candidates) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        self.invalid(span, message);
    }

    fn cpu_flags(&mut self, value: &str, span: Span) {
        let allowed = cpu_vm_flags(self.pve);
        for token in qmconf::split_list(value, span) {
            let flag = token.text.trim_start_matches(['+', '-']);
            let signed = token.text.len() == flag.len() + 1;
            if !signed || !allowed.contains(&flag) {
                self.invalid(
                    token.span,
                    format!(
                        "CPU flag `{}` is not allowed in a VM config: write `+flag` or `-flag` with one \
                         of {} (other CPU features need a CPU type or `args: -cpu ...`)",
                        token.text,
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn boot_order(&mut self, value: &str, span: Span) {
        for device in qmconf::split_list(value, span) {
            let bootable = match lookup_key(device.text) {
                KeyLookup::Known(found) => matches!(
                    found.spec.name,
                    "ide" | "sata" | "scsi" | "virtio" | "net" | "usb" | "hostpci"
                ),
                _ => false,
            };
            if !bootable {
                self.invalid(
                    device.span,
                    format!(
                        "`{}` cannot be in `boot: order=`: list disks (ideN, sataN, scsiN, virtioN), \
                         netN, usbN or hostpciN — not efidisk0 or tpmstate0",
                        device.text
                    ),
                );
            }
        }
    }

    fn mac(&mut self, key: &str, value: &str, span: Span) {
        if !is_unicast_mac(value) {
            self.invalid(
                span,
                format!(
                    "`{key}` has invalid MAC address `{value}`: expects six hex pairs separated by `:` \
                     with the multicast bit clear (e.g. BC:24:11:2C:69:EC)"
                ),
            );
        }
    }

    fn volume(&mut self, key: &str, value: &str, span: Span) {
        let problem = match qmconf::drive_volume(value) {
            DriveVolume::Invalid(_) => Some(format!(
                "`{key}` has invalid volume `{value}`: expects `<storage>:<volume>`, `none`, `cdrom` or \
                 an absolute path"
            )),
            DriveVolume::Storage { storage, volname }
                if volname.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
            {
                Some(format!(
                    "`{key}: {value}` is the allocation syntax of `qm set`, which a .conf file cannot use: \
                 allocate the disk with `qm set <vmid> --{key} {storage}:{volname}` and reference the \
                 volume it creates"
                ))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.invalid(span, problem);
        }
    }
}

/// The table's stand-in for net's `<model>=<macaddr>` form.
const NET_MODEL_ALIAS: &str = "<model>";

/// Why a known key may not appear in this kind of section.
fn section_restriction(key: &str, section: &SectionKind) -> Option<String> {
    match key {
        "digest" => Some(
            "`digest` is computed by PVE when it reads the file; it is not a file key".to_owned(),
        ),
        "snaptime" if !matches!(section, SectionKind::Snapshot(_)) => {
            Some("`snaptime` only belongs in snapshot sections".to_owned())
        }
        _ => None,
    }
}

fn did_you_mean_key(key: &str, section: &SectionKind) -> Option<String> {
    let digits = &key[key.trim_end_matches(|c: char| c.is_ascii_digit()).len()..];
    let index = if digits.is_empty() { "0" } else { digits };
    let candidates: Vec<String> = KEYS
        .iter()
        .filter(|k| {
            !matches!(k.value, ValueSpec::Internal) || matches!(section, SectionKind::Snapshot(_))
        })
        .map(|k| match k.index {
            Some(_) => format!("{}{index}", k.name),
            None => k.name.to_owned(),
        })
        .collect();
    did_you_mean(key, candidates.iter().map(String::as_str)).map(str::to_owned)
}

/// The closest candidate, if it is close enough to be a likely typo.
fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn integer_problem(value: &str, min: Option<i64>, max: Option<i64>) -> Option<String> {
    let Ok(number) = value.parse::<i64>() else {
        return Some("expects a whole number".to_owned());
    };
    range_problem(number as f64, min.map(|m| m as f64), max.map(|m| m as f64))
}

fn number_problem(value: &str, min: Option<f64>, max: Option<f64>) -> Option<String> {
    let numeric = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    match value.parse::<f64>() {
        Ok(number) if numeric => range_problem(number, min, max),
        _ => Some("expects a number".to_owned()),
    }
}

fn range_problem(number: f64, min: Option<f64>, max: Option<f64>) -> Option<String> {
    let below = min.is_some_and(|m| number < m);
    let above = max.is_some_and(|m| number > m);
    (below || above).then(|| match (min, max) {
        (Some(min), Some(max)) => format!("expects {min} to {max}"),
        (Some(min), None) => format!("expects at least {min}"),
        (None, Some(max)) => format!("expects at most {max}"),
        (None, None) => String::new(),
    })
}

/// pve-common `pve_verify_dns_name`.
fn is_dns_name(name: &str) -> bool {
    name.split('.').all(|label| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
    })
}

/// pve-common `pve_verify_tag`: `^[a-z0-9_][a-z0-9_\-+.]*$`, case-insensitive.
fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'.'))
}

/// `(ide|sata|scsi|virtio)\d+`
fn is_bootdisk(value: &str) -> bool {
    ["ide", "sata", "scsi", "virtio"].iter().any(|bus| {
        value
            .strip_prefix(bus)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// `[acdn]{1,4}`
fn is_legacy_boot(value: &str) -> bool {
    (1..=4).contains(&value.len())
        && value
            .bytes()
            .all(|b| matches!(b, b'a' | b'c' | b'd' | b'n'))
}

/// pve-common `pve_verify_mac_addr`: `^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$`, case-insensitive.
fn is_unicast_mac(mac: &str) -> bool {
    let pairs: Vec<&str> = mac.split(':').collect();
    let hex_pair = |p: &&str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit());
    pairs.len() == 6
        && pairs.iter().all(hex_pair)
        && pairs
            .first()
            .and_then(|p| p.as_bytes().get(1).copied())
            .is_some_and(|b| {
                matches!(
                    b.to_ascii_lowercase(),
                    b'0' | b'2' | b'4' | b'6' | b'8' | b'a' | b'c' | b'e'
                )
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`lookup_key`] searches the table by name: it must stay sorted by name.
    #[test]
    fn the_key_table_is_sorted_by_name() {
        assert!(KEYS.windows(2).all(|pair| pair[0].name <= pair[1].name));
        for spec in KEYS {
            let found: Vec<_> = named(spec.name).collect();
            assert!(
                found.iter().any(|k| std::ptr::eq(*k, spec)),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn key_lookup_resolves_families_and_fixed_keys() {
        assert!(matches!(
            lookup_key("numa"),
            KeyLookup::Known(OptionRef { index: None, .. })
        ));
        assert!(matches!(
            lookup_key("numa7"),
            KeyLookup::Known(OptionRef { index: Some(7), .. })
        ));
        assert!(matches!(
            lookup_key("numa8"),
            KeyLookup::IndexOutOfRange { .. }
        ));
        assert!(matches!(lookup_key("efidisk0"), KeyLookup::Known(_)));
        assert_eq!(lookup_key("efidisk1"), KeyLookup::Unknown);
        assert_eq!(lookup_key("scsi01"), KeyLookup::Unknown);
        assert!(matches!(
            lookup_key("scsi99999999999"),
            KeyLookup::IndexOutOfRange { .. }
        ));
    }

    #[test]
    fn formats_match_upstream_patterns() {
        assert!(is_unicast_mac("BC:24:11:2C:69:EC"));
        assert!(!is_unicast_mac("01:24:11:2C:69:EC"));
        assert!(!is_unicast_mac("BC:24:11:2C:69"));
        assert!(is_dns_name("talos-cp-1.lab"));
        assert!(!is_dns_name("talos_cp_1"));
        assert!(!is_dns_name("-cp"));
        assert!(is_tag("k8s") && is_tag("_a+b.c") && !is_tag("-x"));
        assert!(is_legacy_boot("cdn") && !is_legacy_boot("scsi0"));
        assert!(is_bootdisk("virtio0") && !is_bootdisk("net0"));
    }
}
