//! Image Factory schematics: canonical YAML, ID, installer image and ISO URL.
//!
//! The factory's ID is `hex(sha256(yaml.Marshal(schematic)))` with Go's YAML encoder
//! (`siderolabs/image-factory` `pkg/schematic/schematic.go`; research §4): struct field order,
//! `omitempty`, 4-space indentation, list items indented under their key, and the encoder's
//! quoting rules. The server re-marshals what it parsed, so the *input's* formatting does not
//! matter, but list order does: the API does not sort, only the web UI sorts extensions.

use crate::knowledge::talos::{
    DialectLookup, InstallerForm, Platform, TalosVersion, dialect_for_minor,
};
use crate::yaml::{Node, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Where the Image Factory serves installers and images.
pub const FACTORY_REGISTRY: &str = "factory.talos.dev";
pub const FACTORY_URL: &str = "https://factory.talos.dev";

/// The schematic talhorn generates: official extensions and extra kernel arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schematic {
    /// Sorted and without duplicates, as the web UI submits them, so the ID matches the UI's.
    pub extensions: Vec<String>,
    /// In the order given: the kernel command line is ordered.
    pub extra_kernel_args: Vec<String>,
}

impl Schematic {
    pub fn new(
        extensions: impl IntoIterator<Item = impl Into<String>>,
        extra_kernel_args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let mut extensions: Vec<String> = extensions.into_iter().map(Into::into).collect();
        extensions.sort();
        extensions.dedup();
        Self {
            extensions,
            extra_kernel_args: extra_kernel_args.into_iter().map(Into::into).collect(),
        }
    }

    /// The bytes the factory hashes.
    pub fn canonical_yaml(&self) -> String {
        let mut customization = Vec::new();
        if !self.extra_kernel_args.is_empty() {
            customization.push(("extraKernelArgs", Out::strings(&self.extra_kernel_args)));
        }
        if !self.extensions.is_empty() {
            let official = vec![("officialExtensions", Out::strings(&self.extensions))];
            customization.push(("systemExtensions", Out::Map(official)));
        }
        render(&Out::Map(vec![("customization", Out::Map(customization))]))
    }

    /// The schematic ID: hex sha256 of [`Self::canonical_yaml`].
    pub fn id(&self) -> String {
        sha256_hex(&self.canonical_yaml())
    }

    /// The installer image for `machine.install.image`.
    pub fn installer_image(&self, version: &TalosVersion, platform: Platform) -> String {
        installer_image(&self.id(), version, platform)
    }

    /// The boot ISO for a VM's CD-ROM.
    pub fn iso_url(&self, version: &TalosVersion, platform: Platform) -> String {
        iso_url(&self.id(), version, platform)
    }
}

/// `factory.talos.dev/<platform>-installer/<id>:<version>` from Talos v1.10 (the unified
/// installer), `factory.talos.dev/installer/<id>:<version>` before.
pub fn installer_image(schematic_id: &str, version: &TalosVersion, platform: Platform) -> String {
    let form = match dialect_for_minor(version.major, version.minor) {
        DialectLookup::Supported(d) | DialectLookup::Newer(d) => d.installer,
        DialectLookup::TooOld => InstallerForm::Generic,
    };
    match form {
        InstallerForm::Generic => format!("{FACTORY_REGISTRY}/installer/{schematic_id}:{version}"),
        InstallerForm::PerPlatform => {
            format!("{FACTORY_REGISTRY}/{platform}-installer/{schematic_id}:{version}")
        }
    }
}

/// `https://factory.talos.dev/image/<id>/<version>/<platform>-amd64.iso` (Proxmox VMs here
/// are x86-64).
pub fn iso_url(schematic_id: &str, version: &TalosVersion, platform: Platform) -> String {
    format!("{FACTORY_URL}/image/{schematic_id}/{version}/{platform}-amd64.iso")
}

/// The ID the factory gives a schematic file exactly as written (list order kept).
///
/// `None` when the file is not a schematic the factory would accept as talhorn understands it:
/// an unknown key (the factory decodes with `KnownFields`), a value of the wrong type, a
/// non-string scalar where a string belongs (talhorn cannot tell how it was spelled), a
/// multi-line string, or overlay `options` (free-form; not re-encoded here).
pub fn schematic_id_of_yaml_as_written(doc: &Node) -> Option<String> {
    written_schematic_ids(doc).map(|ids| ids.as_written)
}

/// The ID of a written schematic, and the ID it would have with its extensions sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenSchematicIds {
    pub as_written: String,
    /// What the web UI (which sorts extensions) would produce for the same content.
    pub sorted: String,
}

impl WrittenSchematicIds {
    /// True when the file lists its extensions in another order than the UI would.
    pub fn sorting_changes_id(&self) -> bool {
        self.as_written != self.sorted
    }
}

pub fn written_schematic_ids(doc: &Node) -> Option<WrittenSchematicIds> {
    let mut schematic = FullSchematic::read(doc)?;
    let as_written = sha256_hex(&render(&schematic.to_out()));
    schematic.extensions.sort();
    let sorted = sha256_hex(&render(&schematic.to_out()));
    Some(WrittenSchematicIds { as_written, sorted })
}

fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Every field of the factory's `Schematic` that talhorn can re-encode.
#[derive(Default)]
struct FullSchematic {
    owner: String,
    overlay_image: String,
    overlay_name: String,
    embedded_machine_configuration: String,
    extra_kernel_args: Vec<String>,
    meta: Vec<(u8, String)>,
    extensions: Vec<String>,
    bootloader: String,
    enroll_keys: String,
    include_well_known_certificates: bool,
    sector_size: u64,
}

impl FullSchematic {
    fn read(doc: &Node) -> Option<Self> {
        let mut schematic = Self::default();
        for (key, value) in fields(doc)? {
            match key {
                "owner" => schematic.owner = string(value)?,
                "overlay" => schematic.read_overlay(value)?,
                "customization" => schematic.read_customization(value)?,
                _ => return None,
            }
        }
        Some(schematic)
    }

    fn read_overlay(&mut self, overlay: &Node) -> Option<()> {
        for (key, value) in fields(overlay)? {
            match key {
                "image" => self.overlay_image = string(value)?,
                "name" => self.overlay_name = string(value)?,
                "options" if value.is_null() || value.as_map().is_some_and(<[_]>::is_empty) => {}
                _ => return None,
            }
        }
        Some(())
    }

    fn read_customization(&mut self, customization: &Node) -> Option<()> {
        for (key, value) in fields(customization)? {
            match key {
                "embeddedMachineConfiguration" => {
                    self.embedded_machine_configuration = string(value)?
                }
                "extraKernelArgs" => self.extra_kernel_args = strings(value)?,
                "meta" => self.meta = meta(value)?,
                "systemExtensions" => {
                    for (key, value) in fields(value)? {
                        match key {
                            "officialExtensions" => self.extensions = strings(value)?,
                            _ => return None,
                        }
                    }
                }
                "bootloader" => self.bootloader = string(value)?,
                "secureboot" => {
                    for (key, value) in fields(value)? {
                        match key {
                            "enrollKeys" => self.enroll_keys = string(value)?,
                            "includeWellKnownCertificates" if value.is_null() => {
                                self.include_well_known_certificates = false;
                            }
                            "includeWellKnownCertificates" => {
                                self.include_well_known_certificates = value.as_bool()?
                            }
                            _ => return None,
                        }
                    }
                }
                "diskImage" => {
                    for (key, value) in fields(value)? {
                        match key {
                            "sectorSize" if value.is_null() => self.sector_size = 0,
                            "sectorSize" => {
                                self.sector_size = u64::try_from(value.as_i64()?).ok()?
                            }
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
        }
        Some(())
    }

    /// The struct as Go marshals it: field order, `omitempty`, `customization` always present.
    fn to_out(&self) -> Out {
        let mut root = Vec::new();
        if !self.owner.is_empty() {
            root.push(("owner", Out::Str(self.owner.clone())));
        }
        // `image` and `name` have no omitempty: a non-empty overlay writes both.
        if !self.overlay_image.is_empty() || !self.overlay_name.is_empty() {
            root.push((
                "overlay",
                Out::Map(vec![
                    ("image", Out::Str(self.overlay_image.clone())),
                    ("name", Out::Str(self.overlay_name.clone())),
                ]),
            ));
        }
        let mut customization = Vec::new();
        if !self.embedded_machine_configuration.is_empty() {
            customization.push((
                "embeddedMachineConfiguration",
                Out::Str(self.embedded_machine_configuration.clone()),
            ));
        }
        if !self.extra_kernel_args.is_empty() {
            customization.push(("extraKernelArgs", Out::strings(&self.extra_kernel_args)));
        }
        if !self.meta.is_empty() {
            let items = self
                .meta
                .iter()
                .map(|(key, value)| {
                    Out::Map(vec![
                        ("key", Out::Uint(u64::from(*key))),
                        ("value", Out::Str(value.clone())),
                    ])
                })
                .collect();
            customization.push(("meta", Out::List(items)));
        }
        if !self.extensions.is_empty() {
            let official = vec![("officialExtensions", Out::strings(&self.extensions))];
            customization.push(("systemExtensions", Out::Map(official)));
        }
        if !self.bootloader.is_empty() {
            customization.push(("bootloader", Out::Str(self.bootloader.clone())));
        }
        let mut secureboot = Vec::new();
        if !self.enroll_keys.is_empty() {
            secureboot.push(("enrollKeys", Out::Str(self.enroll_keys.clone())));
        }
        if self.include_well_known_certificates {
            secureboot.push(("includeWellKnownCertificates", Out::Bool(true)));
        }
        if !secureboot.is_empty() {
            customization.push(("secureboot", Out::Map(secureboot)));
        }
        if self.sector_size != 0 {
            customization.push((
                "diskImage",
                Out::Map(vec![("sectorSize", Out::Uint(self.sector_size))]),
            ));
        }
        root.push(("customization", Out::Map(customization)));
        Out::Map(root)
    }
}

/// The entries of a mapping with string keys; a null value counts as an empty mapping.
fn fields(node: &Node) -> Option<Vec<(&str, &Node)>> {
    match &node.value {
        Value::Null => Some(Vec::new()),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| Some((k.as_str()?, v)))
            .collect(),
        _ => None,
    }
}

fn string(node: &Node) -> Option<String> {
    match &node.value {
        Value::Null => Some(String::new()),
        Value::Str(s) if !s.contains('\n') => Some(s.clone()),
        _ => None,
    }
}

fn strings(node: &Node) -> Option<Vec<String>> {
    match &node.value {
        Value::Null => Some(Vec::new()),
        Value::Seq(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

fn meta(node: &Node) -> Option<Vec<(u8, String)>> {
    let Value::Seq(items) = &node.value else {
        return node.is_null().then(Vec::new);
    };
    items
        .iter()
        .map(|item| {
            let mut key = 0u8;
            let mut value = String::new();
            for (field, field_value) in fields(item)? {
                match field {
                    "key" => key = u8::try_from(field_value.as_i64()?).ok()?,
                    "value" => value = string(field_value)?,
                    _ => return None,
                }
            }
            Some((key, value))
        })
        .collect()
}

/// A value to encode the way Go's YAML encoder does.
enum Out {
    Str(String),
    Uint(u64),
    Bool(bool),
    List(Vec<Out>),
    Map(Vec<(&'static str, Out)>),
}

impl Out {
    fn strings(items: &[String]) -> Self {
        Self::List(items.iter().cloned().map(Self::Str).collect())
    }
}

const INDENT: usize = 4;

/// Renders a top-level mapping as a YAML document with a trailing newline.
fn render(root: &Out) -> String {
    let mut out = String::new();
    match root {
        Out::Map(entries) => write_map(&mut out, entries, 0),
        other => {
            write_scalar(&mut out, other);
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, entries: &[(&str, Out)], indent: usize) {
    for (index, (key, value)) in entries.iter().enumerate() {
        // The first key of a list item shares the `- ` line; the caller wrote the indent.
        if index > 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(key);
        out.push(':');
        write_value(out, value, indent);
    }
}

fn write_value(out: &mut String, value: &Out, indent: usize) {
    match value {
        Out::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Out::List(items) if items.is_empty() => out.push_str(" []\n"),
        Out::Map(entries) => {
            out.push('\n');
            write_map(out, entries, indent + INDENT);
        }
        Out::List(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&" ".repeat(indent + INDENT));
                out.push_str("- ");
                match item {
                    // Keys after the first align with the first one, two columns past the dash.
                    Out::Map(entries) if !entries.is_empty() => {
                        write_map(out, entries, indent + INDENT + 2)
                    }
                    scalar => {
                        write_scalar(out, scalar);
                        out.push('\n');
                    }
                }
            }
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Out) {
    match value {
        Out::Str(s) => out.push_str(&quote(s)),
        Out::Uint(n) => {
            let _ = write!(out, "{n}");
        }
        Out::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Out::List(_) => out.push_str("[]"),
        Out::Map(_) => out.push_str("{}"),
    }
}

/// A string as Go's YAML encoder writes it in block context: plain when it would read back as
/// the same string, double-quoted when plain would read as another type (`true`, `10`, `~`,
/// YAML 1.1 booleans like `on`), single-quoted when plain is impossible (indicators, `: `,
/// ` #`, surrounding spaces), double-quoted when it has characters single quotes cannot hold.
fn quote(s: &str) -> String {
    if s.is_empty() || resolves_to_non_string(s) {
        return double_quoted(s);
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return double_quoted(s);
    }
    if plain_allowed(s) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a plain scalar would be read back as something other than this string: null,
/// booleans (YAML 1.1 spellings included), numbers, timestamps, sexagesimal numbers.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y",
        "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN", "<<",
    ];
    WORDS.contains(&s) || is_number(s) || is_timestamp(s) || is_sexagesimal(s)
}

fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s).replace('_', "");
    // Rust also parses `inf` and `nan`, which YAML reads as strings.
    let decimal = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits.parse::<f64>().is_ok();
    let radix = ["0x", "0o", "0b"].iter().any(|prefix| {
        digits
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit()))
    });
    decimal || radix
}

/// `2001-12-14` and longer timestamps that start with a date.
fn is_timestamp(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    let (Some(year), Some(month), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let day: String = rest.chars().take_while(char::is_ascii_digit).collect();
    year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&month.len())
        && month.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&day.len())
}

/// `1:20` or `190:20:30.15`: YAML 1.1 base-60 numbers, which Go's encoder quotes.
fn is_sexagesimal(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut parts = unsigned.split(':');
    let first_is_number = parts.next().is_some_and(|p| {
        p.starts_with(|c: char| c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_digit() || c == '_')
    });
    let mut rest = parts.peekable();
    first_is_number
        && rest.peek().is_some()
        && rest.all(|p| {
            let whole = p.split('.').next().unwrap_or_default();
            (1..=2).contains(&whole.len())
                && p.chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        })
}

/// The emitter's rules for plain scalars in block context.
fn plain_allowed(s: &str) -> bool {
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    let followed_by_space = |i: usize| chars.get(i + 1).is_none_or(|c| *c == ' ');
    for (i, c) in chars.iter().enumerate() {
        let blocked = if i == 0 {
            matches!(
                c,
                '#' | ','
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '&'
                    | '*'
                    | '!'
                    | '|'
                    | '>'
                    | '\''
                    | '"'
                    | '%'
                    | '@'
                    | '`'
            ) || (matches!(c, '?' | ':' | '-') && followed_by_space(i))
        } else {
            (*c == ':' && followed_by_space(i)) || (*c == '#' && chars.get(i - 1) == Some(&' '))
        };
        if blocked {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_the_go_encoder() {
        assert_eq!(quote("siderolabs/iscsi-tools"), "siderolabs/iscsi-tools");
        assert_eq!(quote("net.ifnames=0"), "net.ifnames=0");
        assert_eq!(
            quote(r#"{"externalIPs":["1.2.3.4"]}"#),
            r#"'{"externalIPs":["1.2.3.4"]}'"#
        );
        assert_eq!(quote("true"), "\"true\"");
        assert_eq!(quote("on"), "\"on\"");
        assert_eq!(quote("10"), "\"10\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a: b"), "'a: b'");
        assert_eq!(quote("it's"), "it's");
        assert_eq!(quote("- x"), "'- x'");
        assert_eq!(quote("2001-12-14"), "\"2001-12-14\"");
        assert_eq!(quote("1:20"), "\"1:20\"");
        assert_eq!(quote("inf"), "inf");
        assert_eq!(quote("0x1F"), "\"0x1F\"");
    }

    /// Go's encoder leaves `=` plain (yaml.v3 does not know YAML 1.1's value type), and the ID
    /// is the hash of exactly that text, so the intent refuses `=` as a kernel argument
    /// instead; every string the intent accepts reads back as itself in YAML 1.1 and 1.2.
    #[test]
    fn every_accepted_kernel_argument_round_trips() {
        use crate::emit::yaml_out::{HOSTILE_STRINGS, yaml11_plain_is_not_this_string};
        let schema: serde_json::Value = serde_json::from_str(crate::intent::SCHEMA).unwrap();
        let item = &schema["properties"]["talos"]["properties"]["kernelArgs"]["items"];
        let validator = jsonschema::validator_for(item).unwrap();
        let accepted = |s: &str| validator.is_valid(&serde_json::Value::from(s));
        for s in HOSTILE_STRINGS.iter().copied().filter(|s| accepted(s)) {
            let schematic = Schematic {
                extensions: Vec::new(),
                extra_kernel_args: vec![s.to_string()],
            };
            let text = schematic.canonical_yaml();
            let root = crate::yaml::parse_document(&text).unwrap();
            let args = root.path(&["customization", "extraKernelArgs"]).unwrap();
            assert_eq!(args.as_seq().unwrap()[0].as_str(), Some(s), "{text}");
            let written_plain = text.contains(&format!("- {s}\n"));
            assert!(
                !(written_plain && yaml11_plain_is_not_this_string(s)),
                "{s:?} is accepted but written plain:\n{text}"
            );
        }
        assert!(!accepted("="), "`=` must be refused");
        assert!(accepted("net.ifnames=0"));
    }
}
